import Foundation
import ParleyTokenizer

/// Training text from files, cut into fixed-length sequences.
public enum TrainingCorpus {
    /// The documents of a data file: a `.jsonl` file holds one JSON object with a "text" string per line;
    /// any other file is one plain-text document.
    public static func documents(atPath path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.noTrainingData("cannot read \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TrainingError.noTrainingData("\(path) is not UTF-8") }
        guard path.hasSuffix(".jsonl") else {
            guard !text.isEmpty else { throw TrainingError.noTrainingData("\(path) is empty") }
            return [text]
        }
        var documents: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let document = object["text"] as? String
            else { throw TrainingError.noTrainingData("\(path):\(index + 1): expected a JSON object with a \"text\" string") }
            documents.append(document)
        }
        guard !documents.isEmpty else { throw TrainingError.noTrainingData("\(path) has no documents") }
        return documents
    }

    /// Continued pre-training sequences: the documents' tokens one after another, cut into windows of
    /// `length` + 1 tokens that overlap by one, so every token after the first is a target exactly once. A
    /// shorter remainder becomes a shorter sequence.
    public static func sequences(documents: [[TokenID]], length: Int) -> [TrainingSequence] {
        let stream = Array(documents.joined())
        var sequences: [TrainingSequence] = []
        var start = 0
        while start + 1 < stream.count {
            let end = min(stream.count, start + length + 1)
            sequences.append(TrainingSequence(tokens: Array(stream[start..<end])))
            start = end - 1
        }
        return sequences
    }
}

/// Deals micro-batches from the new data, mixing in replay sequences (earlier data or general text), in an
/// order that follows from the seed: each pass over a set is a fresh shuffle.
public struct BatchSampler: Sendable {
    public let data: [TrainingSequence]
    public let replay: [TrainingSequence]
    public let batchSize: Int
    /// Of every batch, this many sequences come from the replay set (when there is one).
    public let replayPerBatch: Int
    private var dataOrder: ShuffledCycle
    private var replayOrder: ShuffledCycle

    public init(data: [TrainingSequence], replay: [TrainingSequence] = [], batchSize: Int, replayFraction: Double = 0.25,
                seed: UInt64) throws {
        guard !data.isEmpty else { throw TrainingError.noTrainingData("the data gave no sequences") }
        guard batchSize >= 1 else { throw TrainingError.invalidConfiguration("batch size must be ≥ 1") }
        self.data = data
        self.replay = replay
        self.batchSize = batchSize
        replayPerBatch = replay.isEmpty ? 0 : min(batchSize - 1, max(1, Int((Double(batchSize) * replayFraction).rounded())))
        dataOrder = ShuffledCycle(count: data.count, seed: seed, stream: 1)
        replayOrder = ShuffledCycle(count: max(1, replay.count), seed: seed, stream: 2)
    }

    public mutating func nextBatch() -> [TrainingSequence] {
        let fresh = (0..<(batchSize - replayPerBatch)).map { _ in data[dataOrder.next()] }
        let replayed = (0..<replayPerBatch).map { _ in replay[replayOrder.next()] }
        return fresh + replayed
    }
}

/// Indices 0..<count in a seeded random order, reshuffled on every pass.
struct ShuffledCycle: Sendable {
    private var random: SeededRandom
    private var order: [Int]
    private var position: Int

    init(count: Int, seed: UInt64, stream: UInt64) {
        random = SeededRandom(seed: seed, stream: 0x5A3D, stream)
        order = Array(0..<count)
        position = count
    }

    mutating func next() -> Int {
        if position == order.count {
            order.shuffle(using: &random)
            position = 0
        }
        defer { position += 1 }
        return order[position]
    }
}
