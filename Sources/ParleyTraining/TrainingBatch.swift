import ParleyTokenizer

/// One training sequence: its tokens and which of them are targets (a document: all but the first; a chat:
/// the assistant's tokens only).
public struct TrainingSequence: Sendable, Equatable {
    public var tokens: [TokenID]
    /// lossMask[i]: token i is predicted (from tokens 0..<i) and counts in the loss. lossMask[0] is ignored.
    public var lossMask: [Bool]

    public init(tokens: [TokenID], lossMask: [Bool]) {
        precondition(tokens.count == lossMask.count, "one loss flag per token")
        self.tokens = tokens
        self.lossMask = lossMask
    }

    /// Every token after the first is a target.
    public init(tokens: [TokenID]) {
        self.init(tokens: tokens, lossMask: tokens.indices.map { $0 > 0 })
    }

    /// Targets that count in the loss.
    public var targetCount: Int { lossMask.indices.dropFirst().filter { lossMask[$0] }.count }
}

/// Sequences of a micro-batch laid out as consecutive rows: sequence s feeds its tokens 0..<count-1 (the last
/// token is only ever a target) at rows starts[s]..<starts[s]+lengths[s].
struct BatchLayout {
    let starts: [Int]
    let lengths: [Int]
    /// Input token of each row.
    let tokens: [TokenID]
    /// Position of each row within its sequence.
    let positions: [Int]
    /// Target token of each row, or nil when the row's next token does not count.
    let targets: [TokenID?]
    var rows: Int { tokens.count }
    var targetCount: Int { targets.lazy.filter { $0 != nil }.count }

    init(_ sequences: [TrainingSequence]) {
        var starts: [Int] = [], lengths: [Int] = [], tokens: [TokenID] = [], positions: [Int] = []
        var targets: [TokenID?] = []
        for sequence in sequences where sequence.tokens.count >= 2 {
            starts.append(tokens.count)
            lengths.append(sequence.tokens.count - 1)
            for i in 0..<(sequence.tokens.count - 1) {
                tokens.append(sequence.tokens[i])
                positions.append(i)
                targets.append(sequence.lossMask[i + 1] ? sequence.tokens[i + 1] : nil)
            }
        }
        self.starts = starts
        self.lengths = lengths
        self.tokens = tokens
        self.positions = positions
        self.targets = targets
    }
}
