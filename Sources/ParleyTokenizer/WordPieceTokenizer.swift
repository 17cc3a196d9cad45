import Foundation

/// BERT's WordPiece tokenizer: each word from `BertTextSplitter` becomes the longest vocabulary entries that
/// cover it left to right, pieces after the first prefixed `##`; a word that cannot be covered (or is longer
/// than 100 characters) becomes `[UNK]` whole. Encoded sequences are framed `[CLS] … [SEP]`.
///
/// Reference: Hugging Face tokenizers `models/wordpiece`, google-research/bert `tokenization.py`.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String]
    public let splitter: BertTextSplitter
    public let unknownID: Int32
    public let classID: Int32
    public let separatorID: Int32
    public let paddingID: Int32
    private let ids: [String: Int32]
    private static let maxWordCharacters = 100
    private static let continuation = "##"

    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case unreadable(path: String, reason: String)
        case missingToken(String)
        case duplicateToken(String, line: Int)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read the WordPiece vocabulary \(path): \(reason)"
            case .missingToken(let token): "the WordPiece vocabulary lacks the special token \(token)"
            case .duplicateToken(let token, let line): "the WordPiece vocabulary lists \(token) twice (line \(line))"
            }
        }
    }

    /// `vocabulary[i]` is the token with id `i`.
    public init(vocabulary: [String], splitter: BertTextSplitter) throws {
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(vocabulary.count)
        for (index, token) in vocabulary.enumerated() {
            // BERT's vocab.txt has none; keep the first if a hand-made one does, but say so.
            guard ids[token] == nil else { throw LoadError.duplicateToken(token, line: index + 1) }
            ids[token] = Int32(index)
        }
        func special(_ token: String) throws -> Int32 {
            guard let id = ids[token] else { throw LoadError.missingToken(token) }
            return id
        }
        self.vocabulary = vocabulary
        self.splitter = splitter
        self.ids = ids
        unknownID = try special("[UNK]")
        classID = try special("[CLS]")
        separatorID = try special("[SEP]")
        paddingID = ids["[PAD]"] ?? 0
    }

    /// Reads a `vocab.txt`: one token a line, the line number (from 0) is the id.
    public init(vocabularyFile path: String, splitter: BertTextSplitter) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw LoadError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        var lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        if lines.last == "" { lines.removeLast() }
        try self.init(vocabulary: lines, splitter: splitter)
    }

    public var vocabularySize: Int { vocabulary.count }

    /// The word pieces of `text`, without the `[CLS]`/`[SEP]` frame.
    public func pieces(_ text: String) -> [Int32] {
        var out: [Int32] = []
        for word in splitter.words(text) { appendPieces(of: word, to: &out) }
        return out
    }

    /// `[CLS] pieces [SEP]`, the pieces cut so the whole is at most `maxTokens` long.
    public func encode(_ text: String, maxTokens: Int) -> [Int32] {
        let body = pieces(text).prefix(max(0, maxTokens - 2))
        return [classID] + body + [separatorID]
    }

    private func appendPieces(of word: String, to out: inout [Int32]) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= Self.maxWordCharacters else { out.append(unknownID); return }
        var found: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var match: Int32?
            while end > start {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = Self.continuation + candidate }
                if let id = ids[candidate] { match = id; break }
                end -= 1
            }
            guard let id = match else { out.append(unknownID); return }
            found.append(id)
            start = end
        }
        out.append(contentsOf: found)
    }
}
