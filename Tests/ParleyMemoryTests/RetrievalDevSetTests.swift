import Foundation
import ParleyEngine
import ParleyMemory
import ParleyStore
import ParleyTestSupport
import Testing

/// The retrieval development set (`Tests/Fixtures/memory/retrieval-dev.json`): English and Chinese facts of three
/// users, and later questions that paraphrase them. Hybrid search must put the answer in the top 5 for at least
/// 90 % of questions, and never return another user's memory.
@Suite("Memory retrieval on the development set", .serialized)
struct RetrievalDevSetTests {
    struct DevSet: Decodable {
        struct Question: Decodable {
            let user: String
            let question: String
            let answer: String
        }
        let memories: [String: [String]]
        let questions: [Question]
    }

    static let requiredRecallAt5 = 0.90

    @Test func theAnswerIsInTheTopFiveAndNeverAnotherUsersMemory() async throws {
        let devSet = try JSONDecoder().decode(DevSet.self, from: Data(contentsOf: TestModels.fixture("memory/retrieval-dev.json")))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await openStore(directory.appendingPathComponent("parley.sqlite").path)
        let encoder = try SentenceEncoder(directory: try TestModels.path(named: "all-MiniLM-L6-v2"), threads: 2)
        let service = MemoryService(store: store as! any MemoryStore, embedder: encoder)

        var userIDs: [String: RecordID] = [:]
        var owner: [String: String] = [:]
        for (user, memories) in devSet.memories.sorted(by: { $0.key < $1.key }) {
            let id = try await UserDirectory.userID(named: user, in: store, create: true)
            userIDs[user] = id
            for text in memories {
                try await service.add(userID: id, text: text)
                owner[text] = user
            }
        }
        #expect(devSet.questions.count >= 40)

        var found = 0
        var missed: [String] = []
        for question in devSet.questions {
            let userID = try #require(userIDs[question.user])
            #expect(owner[question.answer] == question.user, "the dev set's answer belongs to its user: \(question.question)")
            let hits = try await service.search(userID: userID, query: question.question, top: 5)
            #expect(hits.count == 5)
            for hit in hits {
                #expect(hit.memory.userID == userID && owner[hit.memory.text] == question.user,
                        "\(question.user) got another user's memory: \(hit.memory.text)")
            }
            #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
            if hits.contains(where: { $0.memory.text == question.answer }) {
                found += 1
            } else {
                missed.append("\(question.question) → \(hits.first?.memory.text ?? "-")")
            }
        }
        let recall = Double(found) / Double(devSet.questions.count)
        print("memory retrieval dev set: recall@5 \(found)/\(devSet.questions.count) = \(recall); missed: \(missed)")
        #expect(recall >= Self.requiredRecallAt5, "recall@5 \(recall); missed: \(missed)")
        try await store.close()
    }
}
