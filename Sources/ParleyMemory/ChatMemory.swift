import Foundation
import ParleyStore

/// A snippet of the user's earlier conversations retrieved for a turn.
public struct HistoryHit: Sendable, Equatable {
    public var snippet: HistorySnippet
    public var score: Double
    public var lexicalRank: Int?
    public var cosine: Float?
}

/// What a user's turn did to their memories.
public struct MemoryUpdate: Sendable, Equatable {
    public enum Kind: String, Sendable { case remembered, proposed, forgotten, alreadyKnown = "already_known", noMatch = "no_match" }
    public var kind: Kind
    /// Memories saved (remembered, proposed), deleted (forgotten) or matching (already known).
    public var memories: [Memory]
    /// What the user asked about (remember / forget), for the notice and the model.
    public var request: String

    /// A line for the system prompt, so the reply can acknowledge it (nil: the model need not know).
    public var instruction: String? {
        let quoted = memories.map { "\"\($0.text)\"" }.joined(separator: "; ")
        switch kind {
        case .remembered: return "You have just saved this to the user's memory at their request: \(quoted). Confirm it briefly."
        case .alreadyKnown: return "The user asked you to remember \"\(request)\"; it was already in their memory. Confirm it briefly."
        case .forgotten: return "At the user's request you have just deleted these memories: \(quoted). Confirm briefly that you forgot it."
        case .noMatch: return "The user asked you to forget \"\(request)\", but no saved memory matched it. Say so briefly."
        case .proposed: return nil
        }
    }
}

/// What a turn is told: the block for the system prompt and what went into it (the reply shows it).
public struct TurnContext: Sendable, Equatable {
    public var text: String
    public var memories: [MemoryHit]
    public var history: [HistoryHit]

    public static let empty = TurnContext(text: "", memories: [], history: [])
}

/// Memory in chat, for one user's turn: applies "remember …" / "forget …", proposes durable facts
/// (`MemoryProposer`) when auto-memory is on, retrieves the memories and snippets of earlier conversations that
/// fit the turn's token budget, and indexes the user's messages for later reference. Everything names the user.
public struct ChatMemory: Sendable {
    public let service: MemoryService
    public let store: any ChatMemoryStore

    /// How many memories / history snippets retrieval considers for a turn.
    public var memoryCandidates = 8
    public var historyCandidates = 4
    /// A memory or snippet with no full-text match is used only when its cosine reaches this.
    public var memoryFloor: Float = 0.25
    public var historyFloor: Float = 0.4
    /// A proposed fact this close to a saved memory is a repeat, not saved again.
    public var duplicateCosine: Float = 0.9
    /// "Forget X" deletes the memories this close to X, or with a full-text match and `forgetLexicalCosine`
    /// (strict: a deletion the user did not mean is worse than one more "forget").
    public var forgetCosine: Float = 0.8
    public var forgetLexicalCosine: Float = 0.3

    public init(store: any ChatMemoryStore, embedder: any TextEmbedder) {
        self.store = store
        service = MemoryService(store: store, embedder: embedder)
    }

    // MARK: Writing

    /// The memory side of a user's turn: an explicit request first; otherwise, with `autoMemory`, proposals.
    /// Nil when the memories did not change and nothing needs saying.
    public func apply(turn: String, userID: RecordID, autoMemory: Bool) async throws -> MemoryUpdate? {
        switch MemoryInstruction.parse(turn) {
        case .remember(let fact)?:
            if let same = try await nearest(fact, userID: userID), same.cosine ?? 0 >= 0.97 {
                return MemoryUpdate(kind: .alreadyKnown, memories: [same.memory], request: fact)
            }
            let saved = try await service.add(userID: userID, text: fact)
            return MemoryUpdate(kind: .remembered, memories: [saved], request: fact)
        case .forget(let description)?:
            let hits = try await service.search(userID: userID, query: description, top: 5)
            let doomed = hits.filter { hit in
                let cosine = hit.cosine ?? -1
                return cosine >= forgetCosine || (hit.lexicalRank != nil && cosine >= forgetLexicalCosine)
            }
            var deleted: [Memory] = []
            for hit in doomed {
                if try await service.delete(userID: userID, id: hit.memory.id) { deleted.append(hit.memory) }
            }
            return MemoryUpdate(kind: deleted.isEmpty ? .noMatch : .forgotten, memories: deleted, request: description)
        case nil:
            guard autoMemory else { return nil }
            var saved: [Memory] = []
            for fact in MemoryProposer.proposals(in: turn) {
                if let same = try await nearest(fact, userID: userID), same.cosine ?? 0 >= duplicateCosine { continue }
                saved.append(try await service.add(userID: userID, text: fact))
            }
            return saved.isEmpty ? nil : MemoryUpdate(kind: .proposed, memories: saved, request: turn)
        }
    }

    /// Indexes a user's message for history reference in later conversations.
    public func indexHistory(userID: RecordID, conversationID: RecordID, messageID: RecordID, text: String) async throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        let clipped = String(trimmed.prefix(2000))
        guard let vector = try service.embedder.embed([clipped]).first else { return }
        try await store.addHistorySnippet(userID: userID, conversationID: conversationID, messageID: messageID, text: clipped,
                                          embedding: vector, model: service.embedder.modelName)
    }

    private func nearest(_ text: String, userID: RecordID) async throws -> MemoryHit? {
        guard try await !store.memoryEmbeddings(userID: userID).isEmpty else { return nil }
        return try await service.search(userID: userID, query: text, top: 3).max { ($0.cosine ?? -1) < ($1.cosine ?? -1) }
    }

    // MARK: Reading

    /// The memories and earlier-conversation snippets relevant to `query` that fit `budget` tokens (memories
    /// first), as one block for the system prompt. `excludingConversation` is the current one (already in the
    /// prompt).
    public func context(for query: String, userID: RecordID, excludingConversation: RecordID?,
                        excludingMemories: Set<RecordID> = [], budget: Int,
                        countTokens: (String) -> Int) async throws -> TurnContext {
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, budget > 0 else { return .empty }
        let memoryHits = try await service.search(userID: userID, query: query, top: memoryCandidates)
            .filter { !excludingMemories.contains($0.memory.id) && ($0.lexicalRank != nil || ($0.cosine ?? -1) >= memoryFloor) }
        let memories = MemoryContext.build(hits: memoryHits, budget: budget, countTokens: countTokens)
        var spent = memories.text.isEmpty ? 0 : countTokens(memories.text + "\n\n")

        let known = Set(memories.used.map { $0.memory.text })
        let historyHits = try await searchHistory(query, userID: userID, excludingConversation: excludingConversation)
            .filter { !known.contains($0.snippet.text) }
        let header = "From the user's earlier conversations (their own words; use only if relevant):"
        var lines: [String] = []
        var usedHistory: [HistoryHit] = []
        if !historyHits.isEmpty, spent + countTokens(header + "\n") < budget {
            spent += countTokens(header + "\n")
            for hit in historyHits {
                let line = "- " + hit.snippet.text.replacingOccurrences(of: "\n", with: " ")
                let cost = countTokens(line + "\n")
                guard spent + cost <= budget else { continue }
                spent += cost
                lines.append(line)
                usedHistory.append(hit)
            }
        }
        var blocks: [String] = []
        if !memories.text.isEmpty { blocks.append(memories.text) }
        if !usedHistory.isEmpty { blocks.append(([header] + lines).joined(separator: "\n")) }
        return TurnContext(text: blocks.joined(separator: "\n\n"), memories: memories.used, history: usedHistory)
    }

    /// Hybrid search over the user's history snippets: full-text and dense ranks fused, filtered by relevance.
    public func searchHistory(_ query: String, userID: RecordID, excludingConversation: RecordID?) async throws -> [HistoryHit] {
        let lexical = try await store.searchHistoryText(userID: userID, query: query, excludingConversation: excludingConversation, limit: 30)
        var embeddings = try await store.historyEmbeddings(userID: userID, excludingConversation: excludingConversation)
        guard !lexical.isEmpty || !embeddings.isEmpty else { return [] }
        let embedder = service.embedder
        guard let queryVector = try embedder.embed([query]).first else { return [] }
        let stale = embeddings.indices.filter { embeddings[$0].model != embedder.modelName }
        if !stale.isEmpty {
            let texts = Dictionary(uniqueKeysWithValues: try await store.historySnippets(ids: stale.map { embeddings[$0].snippetID }, userID: userID)
                .map { ($0.id, $0.text) })
            for index in stale {
                guard let text = texts[embeddings[index].snippetID], let vector = try embedder.embed([text]).first else { continue }
                try await store.updateHistoryEmbedding(id: embeddings[index].snippetID, userID: userID, embedding: vector, model: embedder.modelName)
                embeddings[index].vector = vector
                embeddings[index].model = embedder.modelName
            }
        }
        let dense = embeddings.map { (id: $0.snippetID, cosine: MemoryService.cosine(queryVector, $0.vector)) }
            .sorted { $0.cosine > $1.cosine }
        let lexicalRank = Dictionary(lexical.enumerated().map { ($1.id, $0 + 1) }, uniquingKeysWith: { a, _ in a })
        let cosines = Dictionary(dense.map { ($0.id, $0.cosine) }, uniquingKeysWith: { a, _ in a })
        let fused = service.fusion.fuse([lexical.map(\.id), dense.map(\.id)]).prefix(historyCandidates * 3)
            .filter { lexicalRank[$0.id] != nil || (cosines[$0.id] ?? -1) >= historyFloor }
            .prefix(historyCandidates)
        var known = Dictionary(lexical.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let missing = fused.map { $0.id }.filter { known[$0] == nil }
        for snippet in try await store.historySnippets(ids: missing, userID: userID) { known[snippet.id] = snippet }
        return fused.compactMap { item in
            known[item.id].map { HistoryHit(snippet: $0, score: item.score, lexicalRank: lexicalRank[item.id], cosine: cosines[item.id]) }
        }
    }
}
