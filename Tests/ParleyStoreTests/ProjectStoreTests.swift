import Foundation
import ParleyStore
import Testing

/// Projects on both backends: per user, conversations grouped, files with their chunk index (full-text with
/// Chinese bigrams, vectors), and what deleting a project, a file or the account takes with it.
enum ProjectBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case projectsAndConversations, filesAndChunks, deletionCascades

    var testDescription: String { rawValue }

    static func vector(_ seed: Float) -> [Float] { (0..<8).map { seed + Float($0) / 8 } }

    func run(on backend: Backend) async throws {
        try await withHarness(backend) { h in
            guard let store = h.store as? any ProjectStore else {
                Issue.record("\(backend) store keeps no projects")
                return
            }
            let alice = try await h.store.createUser(email: "alice@example.com", displayName: "Alice", passwordHash: "x").id
            let bob = try await h.store.createUser(email: "bob@example.com", displayName: "Bob", passwordHash: "x").id
            try await body(store, h.store, alice: alice, bob: bob)
        }
    }

    private func body(_ store: any ProjectStore, _ chat: any ParleyStore, alice: RecordID, bob: RecordID) async throws {
        let v = Self.vector
        switch self {
        case .projectsAndConversations:
            let p = try await store.createChatProject(ChatProject(userID: alice, name: "  Thesis  ", instructions: "Answer in British English."))
            #expect(p.name == "Thesis")
            await expectStoreError(.invalid) { _ = try await store.createChatProject(ChatProject(userID: alice, name: "  ")) }
            #expect(try await store.chatProjects(userID: alice).map(\.id) == [p.id])
            #expect(try await store.chatProjects(userID: bob).isEmpty)
            #expect(try await store.chatProject(id: p.id, userID: bob) == nil)
            var renamed = p
            renamed.name = "PhD thesis"
            #expect(try await store.updateChatProject(renamed))
            #expect(try await store.chatProject(id: p.id, userID: alice)?.name == "PhD thesis")
            renamed.userID = bob
            #expect(try await !store.updateChatProject(renamed), "not bob's")
            let c = try await chat.createConversation(Conversation(userID: alice, title: "chapter 1"))
            let bobs = try await chat.createConversation(Conversation(userID: bob, title: "bob's"))
            #expect(try await store.setProject(p.id, conversationID: c.id, userID: alice))
            #expect(try await store.projectID(conversationID: c.id, userID: alice) == p.id)
            #expect(try await store.conversationIDs(projectID: p.id, userID: alice) == [c.id])
            #expect(try await !store.setProject(p.id, conversationID: bobs.id, userID: bob), "bob's chat cannot join alice's project")
            #expect(try await !store.setProject(p.id, conversationID: c.id, userID: bob))
            #expect(try await store.projectID(conversationID: bobs.id, userID: bob) == nil)
            #expect(try await store.setProject(nil, conversationID: c.id, userID: alice))
            #expect(try await store.projectID(conversationID: c.id, userID: alice) == nil)

        case .filesAndChunks:
            let p = try await store.createChatProject(ChatProject(userID: alice, name: "Trip"))
            let q = try await store.createChatProject(ChatProject(userID: alice, name: "Other"))
            let file = try await store.addFile(ProjectFile(projectID: p.id, userID: alice, name: "plan.md", mediaType: "text/markdown",
                                                           size: 120, chunkCount: 0),
                                               chunks: [NewFileChunk(text: "Day one: the Fushimi Inari shrine in Kyoto.", embedding: v(1)),
                                                        NewFileChunk(text: "第二天：去大阪吃章鱼烧。", embedding: v(2))], model: "m")
            #expect(file.chunkCount == 2)
            _ = try await store.addFile(ProjectFile(projectID: q.id, userID: alice, name: "x.txt", mediaType: "text/plain", size: 5, chunkCount: 0),
                                        chunks: [NewFileChunk(text: "Kyoto is elsewhere too.", embedding: v(3))], model: "m")
            await expectStoreError(.notFound) {
                _ = try await store.addFile(ProjectFile(projectID: p.id, userID: bob, name: "evil.txt", mediaType: "text/plain", size: 1, chunkCount: 0),
                                            chunks: [NewFileChunk(text: "hijack", embedding: v(4))], model: "m")
            }
            await expectStoreError(.invalid) {
                _ = try await store.addFile(ProjectFile(projectID: p.id, userID: alice, name: "e.txt", mediaType: "text/plain", size: 1, chunkCount: 0),
                                            chunks: [NewFileChunk(text: "  ", embedding: v(4))], model: "m")
            }
            #expect(try await store.files(projectID: p.id, userID: alice).map(\.name) == ["plan.md"], "a failed upload leaves nothing")
            #expect(try await store.files(projectID: p.id, userID: bob).isEmpty)
            let kyoto = try await store.searchChunkText(projectID: p.id, userID: alice, query: "Which shrine in Kyoto?", limit: 5)
            #expect(kyoto.map(\.text) == ["Day one: the Fushimi Inari shrine in Kyoto."], "this project's chunk only")
            #expect(kyoto.first?.fileName == "plan.md" && kyoto.first?.ordinal == 1)
            #expect(try await store.searchChunkText(projectID: p.id, userID: alice, query: "大阪有什么好吃的", limit: 5).map(\.ordinal) == [2])
            #expect(try await store.searchChunkText(projectID: p.id, userID: bob, query: "Kyoto", limit: 5).isEmpty)
            let vectors = try await store.chunkEmbeddings(projectID: p.id, userID: alice)
            #expect(vectors.map(\.vector) == [v(1), v(2)] || vectors.map(\.vector) == [v(2), v(1)])
            #expect(try await store.chunkEmbeddings(projectID: p.id, userID: bob).isEmpty)
            #expect(try await store.chunks(ids: vectors.map(\.chunkID), userID: bob).isEmpty)
            #expect(try await store.chunks(ids: vectors.map(\.chunkID), userID: alice).count == 2)
            #expect(try await store.allChunks(userID: alice).count == 3)
            #expect(try await !store.deleteFile(id: file.id, userID: bob))
            #expect(try await store.deleteFile(id: file.id, userID: alice))
            #expect(try await store.searchChunkText(projectID: p.id, userID: alice, query: "Kyoto", limit: 5).isEmpty, "chunks went with the file")
            #expect(try await store.chunkEmbeddings(projectID: p.id, userID: alice).isEmpty)

        case .deletionCascades:
            let p = try await store.createChatProject(ChatProject(userID: alice, name: "P"))
            let c = try await chat.createConversation(Conversation(userID: alice, title: "in p"))
            #expect(try await store.setProject(p.id, conversationID: c.id, userID: alice))
            _ = try await store.addFile(ProjectFile(projectID: p.id, userID: alice, name: "a.txt", mediaType: "text/plain", size: 3, chunkCount: 0),
                                        chunks: [NewFileChunk(text: "alpha beta", embedding: v(1))], model: "m")
            #expect(try await !store.deleteChatProject(id: p.id, userID: bob))
            #expect(try await store.deleteChatProject(id: p.id, userID: alice))
            #expect(try await chat.conversation(id: c.id, userID: alice) != nil, "its conversations stay")
            #expect(try await store.projectID(conversationID: c.id, userID: alice) == nil)
            #expect(try await store.allChunks(userID: alice).isEmpty)
            let again = try await store.createChatProject(ChatProject(userID: alice, name: "Q"))
            _ = try await store.addFile(ProjectFile(projectID: again.id, userID: alice, name: "b.txt", mediaType: "text/plain", size: 3, chunkCount: 0),
                                        chunks: [NewFileChunk(text: "gamma", embedding: v(2))], model: "m")
            if let accounts = store as? any ChatMemoryStore {
                #expect(try await accounts.deleteUserAccount(userID: alice))
                #expect(try await store.allChunks(userID: alice).isEmpty, "the account's files and vectors went with it")
                #expect(try await store.chatProjects(userID: alice).isEmpty)
            }
        }
    }
}

@Suite("ChatProject store on SQLite")
struct SQLiteProjectStoreTests {
    @Test("project behaviour", arguments: ProjectBehaviour.allCases)
    func behaviour(_ behaviour: ProjectBehaviour) async throws {
        try await behaviour.run(on: .sqlite)
    }
}

@Suite(
    "ChatProject store on PostgreSQL",
    .serialized,
    .enabled(if: PostgresTestServer.shouldRun, "SKIPPED: needs PARLEY_TEST_POSTGRES_URL (eval \"$(scripts/start-test-postgres.sh)\")")
)
struct PostgresProjectStoreTests {
    @Test("project behaviour", arguments: ProjectBehaviour.allCases)
    func behaviour(_ behaviour: ProjectBehaviour) async throws {
        try await behaviour.run(on: .postgres)
    }
}
