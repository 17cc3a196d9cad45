import Foundation
import ParleyStore

/// One retrieved memory: the memory, its fused score (reciprocal rank fusion, larger is better) and where it
/// ranked in each list (nil: not in that list).
public struct MemoryHit: Sendable, Equatable {
    public var memory: Memory
    public var score: Double
    public var lexicalRank: Int?
    public var denseRank: Int?
    public var cosine: Float?

    public init(memory: Memory, score: Double, lexicalRank: Int? = nil, denseRank: Int? = nil, cosine: Float? = nil) {
        self.memory = memory; self.score = score; self.lexicalRank = lexicalRank; self.denseRank = denseRank; self.cosine = cosine
    }
}

/// A user's saved memories: add, list, edit, delete, and hybrid search — full-text (words and CJK bigrams,
/// SQLite FTS5 / PostgreSQL tsvector) and dense (cosine against the sentence embeddings) fused by reciprocal rank.
///
/// Everything is per user: every store call names the user, and both lists are computed over that user's
/// memories only.
public struct MemoryService: Sendable {
    public let store: any MemoryStore
    public let embedder: any TextEmbedder
    public let fusion: ReciprocalRankFusion
    /// How deep the full-text list goes before fusion (dense ranks all of the user's memories).
    public var lexicalDepth = 50

    public init(store: any MemoryStore, embedder: any TextEmbedder, fusion: ReciprocalRankFusion = ReciprocalRankFusion()) {
        self.store = store
        self.embedder = embedder
        self.fusion = fusion
    }

    @discardableResult
    public func add(userID: RecordID, text: String) async throws -> Memory {
        let vector = try embedOne(text)
        return try await store.addMemory(userID: userID, text: text, embedding: vector, model: embedder.modelName)
    }

    public func list(userID: RecordID) async throws -> [Memory] {
        try await store.memories(userID: userID)
    }

    /// False when the user has no memory with this id.
    @discardableResult
    public func edit(userID: RecordID, id: RecordID, text: String) async throws -> Bool {
        let vector = try embedOne(text)
        return try await store.updateMemory(id: id, userID: userID, text: text, embedding: vector, model: embedder.modelName)
    }

    /// False when the user has no memory with this id.
    @discardableResult
    public func delete(userID: RecordID, id: RecordID) async throws -> Bool {
        try await store.deleteMemory(id: id, userID: userID)
    }

    /// The user's memories most relevant to `query`, best first, at most `top`.
    public func search(userID: RecordID, query: String, top: Int) async throws -> [MemoryHit] {
        guard top > 0 else { throw MemoryError.invalid("--top must be at least 1, not \(top)") }
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw MemoryError.invalid("the query is empty") }
        let lexical = try await store.searchMemoryText(userID: userID, query: query, limit: lexicalDepth)

        // Dense: cosine against every vector this model made; vectors of another model are re-embedded first.
        let queryVector = try embedOne(query)
        var embeddings = try await store.memoryEmbeddings(userID: userID)
        let stale = embeddings.indices.filter { embeddings[$0].model != embedder.modelName }
        if !stale.isEmpty {
            let memories = Dictionary(uniqueKeysWithValues: try await store.memories(userID: userID).map { ($0.id, $0) })
            for index in stale {
                guard let memory = memories[embeddings[index].memoryID] else { continue }
                let vector = try embedOne(memory.text)
                try await store.updateMemory(id: memory.id, userID: userID, text: memory.text, embedding: vector,
                                             model: embedder.modelName)
                embeddings[index] = MemoryEmbedding(memoryID: memory.id, model: embedder.modelName, vector: vector)
            }
        }
        let dense = embeddings.map { (id: $0.memoryID, cosine: Self.cosine(queryVector, $0.vector)) }
            .sorted { $0.cosine > $1.cosine }

        let lexicalIDs = lexical.map(\.memory.id)
        let fused = fusion.fuse([lexicalIDs, dense.map(\.id)]).prefix(top)
        var known = Dictionary(lexical.map { ($0.memory.id, $0.memory) }, uniquingKeysWith: { a, _ in a })
        let lexicalRank = Dictionary(uniqueKeysWithValues: lexicalIDs.enumerated().map { ($1, $0 + 1) })
        let denseRank = Dictionary(uniqueKeysWithValues: dense.enumerated().map { ($1.id, ($0 + 1, $1.cosine)) })
        var hits: [MemoryHit] = []
        for (id, score) in fused {
            if known[id] == nil { known[id] = try await store.memory(id: id, userID: userID) }
            // A memory deleted between the two reads is simply left out.
            guard let memory = known[id] else { continue }
            hits.append(MemoryHit(memory: memory, score: score, lexicalRank: lexicalRank[id],
                                  denseRank: denseRank[id]?.0, cosine: denseRank[id]?.1))
        }
        return hits
    }

    private func embedOne(_ text: String) throws -> [Float] {
        guard let vector = try embedder.embed([text]).first else { throw MemoryError.invalid("the embedder returned nothing") }
        return vector
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count, !a.isEmpty else { return -1 }
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for i in a.indices { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
        let denominator = (na * nb).squareRoot()
        return denominator > 0 ? dot / denominator : -1
    }
}

/// Bad input to memory operations, said in one line.
public enum MemoryError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case unknownUser(String)

    public var description: String {
        switch self {
        case .invalid(let reason): reason
        case .unknownUser(let name): "no user named \(name)"
        }
    }
}
