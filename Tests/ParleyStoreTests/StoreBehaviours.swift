import Foundation
import ParleyStore
import Testing

/// The behaviours every backend must have. Each runs on a fresh database of its own; `SQLiteStoreTests` and
/// `PostgresStoreTests` run all of them.
enum Behaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case migrationsAreVersionedAndIdempotent
    case usersFirstAdminDuplicatesAndLookup
    case firstAdminIsDecidedAtomically
    case settings
    case sessionsLookupExpiryAndDeletion
    case apiKeysUseRevokeAndOwnership
    case conversationCRUD
    case searchOrderingAndPaging
    case messageTreeBranchesAndLeaf
    case streamingUpdatesAndInterruptedReplies
    case deletingAConversationCascades
    case feedbackUpsertAndValidation
    case customInstructions
    case exportImportRoundTripRemapsIDs
    case importRejectsBrokenDocuments
    case usersCannotReachOtherUsersRows
    case fiftyConcurrentAppendsAllLand
    case dataSurvivesReopening
    case writesBeforeACrashAreReadByTheNextStart

    var testDescription: String { rawValue }

    func run(on backend: Backend) async throws {
        switch self {
        case .migrationsAreVersionedAndIdempotent:
            try await withHarness(backend, migrated: false, Self.migrations)
        default:
            try await withHarness(backend) { harness in try await body(harness) }
        }
    }

    private func body(_ h: Harness) async throws {
        switch self {
        case .migrationsAreVersionedAndIdempotent: try await Self.migrations(h)
        case .usersFirstAdminDuplicatesAndLookup: try await Self.users(h.store)
        case .firstAdminIsDecidedAtomically: try await Self.firstAdminAtomic(h.store)
        case .settings: try await Self.settings(h.store)
        case .sessionsLookupExpiryAndDeletion: try await Self.sessions(h.store)
        case .apiKeysUseRevokeAndOwnership: try await Self.apiKeys(h.store)
        case .conversationCRUD: try await Self.conversationCRUD(h.store)
        case .searchOrderingAndPaging: try await Self.search(h.store)
        case .messageTreeBranchesAndLeaf: try await Self.messageTree(h.store)
        case .streamingUpdatesAndInterruptedReplies: try await Self.streaming(h.store)
        case .deletingAConversationCascades: try await Self.cascade(h.store)
        case .feedbackUpsertAndValidation: try await Self.feedback(h.store)
        case .customInstructions: try await Self.instructions(h.store)
        case .exportImportRoundTripRemapsIDs: try await Self.exportImport(h.store)
        case .importRejectsBrokenDocuments: try await Self.importRejects(h.store)
        case .usersCannotReachOtherUsersRows: try await Self.isolation(h.store)
        case .fiftyConcurrentAppendsAllLand: try await Self.concurrentAppends(h.store)
        case .dataSurvivesReopening: try await Self.reopening(h)
        case .writesBeforeACrashAreReadByTheNextStart: try await Self.crash(h)
        }
    }

    // MARK: Migrations

    static func migrations(_ h: Harness) async throws {
        let store = h.store
        #expect(StoreSchema.version >= 2)
        // Nothing exists before migrating.
        await expectStoreError(.unavailable) { _ = try await store.userCount() }
        #expect(try await store.migrate() == StoreSchema.version)
        #expect(try await store.userCount() == 0)
        let alice = try await store.makeUser("alice")
        #expect(try await store.migrate() == StoreSchema.version, "a second migrate changes nothing")
        // Several at once (as several server processes starting together would) all agree.
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 { group.addTask { try await store.migrate() } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(versions == Array(repeating: StoreSchema.version, count: 3))
        // openStore migrates too, and keeps the data.
        let other = try await h.openAnother()
        #expect(try await other.migrate() == StoreSchema.version)
        #expect(try await other.user(id: alice.id) == alice)
    }

    // MARK: Users and settings

    static func users(_ store: any ParleyStore) async throws {
        #expect(try await store.userCount() == 0)
        let alice = try await store.createUser(email: "  Alice@Example.COM \n", displayName: "Alice", passwordHash: "kdf$1")
        #expect(alice.email == "alice@example.com")
        #expect(alice.isAdmin, "the first user is the admin")
        #expect(alice.id == alice.id.lowercased() && UUID(uuidString: alice.id) != nil)
        let bob = try await store.makeUser("bob")
        #expect(!bob.isAdmin, "only the first user is the admin")

        let duplicate = await expectStoreError(.conflict) {
            _ = try await store.createUser(email: "ALICE@example.com", displayName: "Other", passwordHash: "x")
        }
        #expect(duplicate.map { "\($0)".contains("alice@example.com") } == true, "the conflict names the email")
        await expectStoreError(.invalid) { _ = try await store.createUser(email: "  ", displayName: "", passwordHash: "x") }

        #expect(try await store.user(email: " ALICE@EXAMPLE.com") == alice)
        #expect(try await store.user(id: alice.id) == alice)
        #expect(try await store.user(id: bob.id) == bob)
        #expect(try await store.user(id: newRecordID()) == nil)
        #expect(try await store.user(email: "carol@example.com") == nil)
        #expect(try await store.userCount() == 2)

        try await store.updatePasswordHash(userID: alice.id, passwordHash: "kdf$2")
        #expect(try await store.user(id: alice.id)?.passwordHash == "kdf$2")
        #expect(try await store.user(id: bob.id)?.passwordHash == "kdf$bob")
        await expectStoreError(.notFound) { try await store.updatePasswordHash(userID: newRecordID(), passwordHash: "x") }
    }

    static func firstAdminAtomic(_ store: any ParleyStore) async throws {
        let users = try await withThrowingTaskGroup(of: User.self) { group in
            for i in 0..<12 { group.addTask { try await store.makeUser("user\(i)") } }
            return try await group.reduce(into: [User]()) { $0.append($1) }
        }
        #expect(users.count == 12)
        #expect(users.filter(\.isAdmin).count == 1, "exactly one of twelve simultaneous sign-ups is the admin")
        #expect(try await store.userCount() == 12)
    }

    static func settings(_ store: any ParleyStore) async throws {
        #expect(try await store.setting("signup_enabled") == nil)
        try await store.setSetting("signup_enabled", value: "true")
        try await store.setSetting("motd", value: "hello")
        #expect(try await store.setting("signup_enabled") == "true")
        try await store.setSetting("signup_enabled", value: "false")
        #expect(try await store.setting("signup_enabled") == "false")
        #expect(try await store.setting("motd") == "hello")
    }

    // MARK: Sessions and API keys

    static func sessions(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice"), bob = try await store.makeUser("bob")
        let live = WebSession(tokenHash: "hash-live", userID: alice.id, csrfToken: "csrf-1", createdAt: t0, expiresAt: at(3600))
        let second = WebSession(tokenHash: "hash-second", userID: alice.id, csrfToken: "csrf-2", createdAt: t0, expiresAt: at(3600))
        let bobs = WebSession(tokenHash: "hash-bob", userID: bob.id, csrfToken: "csrf-3", createdAt: t0, expiresAt: at(3600))
        let expired = WebSession(tokenHash: "hash-old", userID: alice.id, csrfToken: "csrf-4", createdAt: at(-7200), expiresAt: at(-1))
        for session in [live, second, bobs, expired] { try await store.createSession(session) }

        #expect(try await store.session(tokenHash: "hash-live", now: t0) == live)
        #expect(try await store.session(tokenHash: "hash-live", now: at(3599)) == live)
        #expect(try await store.session(tokenHash: "hash-live", now: at(3600)) == nil, "expired at expiresAt")
        #expect(try await store.session(tokenHash: "hash-old", now: t0) == nil)
        #expect(try await store.session(tokenHash: "no-such-hash", now: t0) == nil)

        await expectStoreError(.conflict) {
            try await store.createSession(WebSession(tokenHash: "hash-live", userID: bob.id, csrfToken: "x", expiresAt: at(60)))
        }
        await expectStoreError(.notFound) {
            try await store.createSession(WebSession(tokenHash: "hash-nobody", userID: newRecordID(), csrfToken: "x", expiresAt: at(60)))
        }

        #expect(try await store.deleteExpiredSessions(now: t0) == 1)
        #expect(try await store.deleteExpiredSessions(now: t0) == 0)
        #expect(try await store.session(tokenHash: "hash-live", now: t0) == live, "live sessions stay")

        try await store.deleteSession(tokenHash: "hash-live")
        #expect(try await store.session(tokenHash: "hash-live", now: t0) == nil)
        #expect(try await store.session(tokenHash: "hash-second", now: t0) == second)

        try await store.deleteSessions(userID: alice.id)
        #expect(try await store.session(tokenHash: "hash-second", now: t0) == nil)
        #expect(try await store.session(tokenHash: "hash-bob", now: t0) == bobs, "another user's sessions stay")
    }

    static func apiKeys(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice"), bob = try await store.makeUser("bob")
        let older = APIKey(userID: alice.id, name: "laptop", prefix: "pk-aaaa", keyHash: "keyhash-1", createdAt: t0)
        let newer = APIKey(userID: alice.id, name: "ci", prefix: "pk-bbbb", keyHash: "keyhash-2", createdAt: at(60))
        let bobs = APIKey(userID: bob.id, name: "bob", prefix: "pk-cccc", keyHash: "keyhash-3", createdAt: at(30))
        for key in [older, newer, bobs] { try await store.createAPIKey(key) }
        #expect(try await store.apiKeys(userID: alice.id) == [newer, older], "newest first")
        #expect(try await store.apiKeys(userID: bob.id) == [bobs])
        await expectStoreError(.conflict) {
            try await store.createAPIKey(APIKey(userID: bob.id, name: "dup", prefix: "pk-dddd", keyHash: "keyhash-1"))
        }

        let used = try #require(try await store.useAPIKey(keyHash: "keyhash-1", now: at(120)))
        #expect(used.id == older.id && used.userID == alice.id)
        #expect(used.lastUsedAt == at(120))
        #expect(try await store.apiKeys(userID: alice.id).first { $0.id == older.id }?.lastUsedAt == at(120), "the use time is stored")
        #expect(try await store.useAPIKey(keyHash: "keyhash-unknown", now: at(120)) == nil)

        #expect(try await store.revokeAPIKey(id: older.id, userID: bob.id, now: at(130)) == false, "not bob's key")
        #expect(try await store.useAPIKey(keyHash: "keyhash-1", now: at(140)) != nil, "still usable")
        #expect(try await store.revokeAPIKey(id: newRecordID(), userID: alice.id, now: at(130)) == false)

        #expect(try await store.revokeAPIKey(id: older.id, userID: alice.id, now: at(150)) == true)
        #expect(try await store.useAPIKey(keyHash: "keyhash-1", now: at(160)) == nil, "a revoked key no longer works")
        let listed = try await store.apiKeys(userID: alice.id)
        #expect(listed.map(\.id) == [newer.id, older.id], "revoked keys are still listed")
        #expect(listed.last?.revokedAt == at(150))
        #expect(listed.last?.lastUsedAt == at(140))
        #expect(try await store.useAPIKey(keyHash: "keyhash-2", now: at(170))?.id == newer.id, "other keys still work")
    }

    // MARK: Conversations

    static func conversationCRUD(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice")
        let draft = Conversation(userID: alice.id, title: "First", systemPrompt: "Be brief.", temperature: 0.3,
                                 model: "smollm2", createdAt: t0, updatedAt: t0)
        let created = try await store.createConversation(draft)
        #expect(created == draft)
        #expect(try await store.conversation(id: draft.id, userID: alice.id) == draft)

        var edited = created
        edited.title = "Renamed"
        edited.systemPrompt = nil
        edited.temperature = 1.25
        edited.model = "gemma3-270m"
        try await store.updateConversation(edited)
        #expect(try await store.conversation(id: draft.id, userID: alice.id) == edited)

        // The leaf must be a message of this conversation.
        let other = try await store.makeConversation(alice, "Other")
        let elsewhere = try await store.say(other, alice, .user, "hello", parent: nil)
        var badLeaf = edited
        badLeaf.currentLeafID = elsewhere.id
        await expectStoreError(.invalid) { try await store.updateConversation(badLeaf) }
        badLeaf.currentLeafID = newRecordID()
        await expectStoreError(.invalid) { try await store.updateConversation(badLeaf) }
        #expect(try await store.conversation(id: draft.id, userID: alice.id) == edited, "nothing was written")

        var withLeaf = draft
        withLeaf.id = newRecordID()
        withLeaf.currentLeafID = elsewhere.id
        await expectStoreError(.invalid) { _ = try await store.createConversation(withLeaf) }
        await expectStoreError(.notFound) { _ = try await store.createConversation(Conversation(userID: newRecordID(), title: "x")) }
        var missing = edited
        missing.id = newRecordID()
        await expectStoreError(.notFound) { try await store.updateConversation(missing) }

        #expect(try await store.deleteConversation(id: draft.id, userID: alice.id))
        #expect(try await store.conversation(id: draft.id, userID: alice.id) == nil)
        #expect(try await store.deleteConversation(id: draft.id, userID: alice.id) == false)
        #expect(try await store.conversation(id: other.id, userID: alice.id) != nil)
    }

    static func search(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice"), bob = try await store.makeUser("bob")
        let rust = try await store.makeConversation(alice, "Rust tips", updated: at(1))
        let grocery = try await store.makeConversation(alice, "Grocery list", updated: at(2))
        let swift = try await store.makeConversation(alice, "Swift Concurrency", updated: at(3))
        let percent = try await store.makeConversation(alice, "Give 100% effort", updated: at(4))
        let thousand = try await store.makeConversation(alice, "1000 ways", updated: at(5))
        let snake = try await store.makeConversation(alice, "snake_case names", updated: at(6))
        _ = try await store.makeConversation(bob, "Swift for Bob", updated: at(7))
        // Appending a message bumps a conversation's updated_at, so add content first and then fix the order.
        _ = try await store.say(grocery, alice, .user, "Remember the OAT milk and eggs", parent: nil)
        func titles(_ search: String?, limit: Int = 50, offset: Int = 0) async throws -> [String] {
            try await store.conversations(userID: alice.id, search: search, limit: limit, offset: offset).map(\.title)
        }
        // The append made the grocery list the newest.
        #expect(try await titles(nil) == ["Grocery list", "snake_case names", "1000 ways", "Give 100% effort",
                                          "Swift Concurrency", "Rust tips"])
        #expect(try await store.conversation(id: grocery.id, userID: alice.id).map { $0.updatedAt > at(7) } == true)

        #expect(try await titles("swift") == ["Swift Concurrency"], "case-insensitive, other users' rows not searched")
        #expect(try await titles("CONCURRENCY") == ["Swift Concurrency"])
        #expect(try await titles("oat MILK") == ["Grocery list"], "matches message content")
        #expect(try await titles("100%") == ["Give 100% effort"], "% is literal, not a wildcard")
        #expect(try await titles("e_c") == ["snake_case names"], "_ is literal, not a wildcard")
        #expect(try await titles("%") == ["Give 100% effort"])
        #expect(try await titles("\\") == [], "a backslash is literal too")
        #expect(try await titles("nothing like this") == [])
        #expect(try await titles("   ") == (try await titles(nil)), "a blank search is no search")

        // Paging walks the same order.
        #expect(try await titles(nil, limit: 2, offset: 0) == ["Grocery list", "snake_case names"])
        #expect(try await titles(nil, limit: 2, offset: 2) == ["1000 ways", "Give 100% effort"])
        #expect(try await titles(nil, limit: 2, offset: 4) == ["Swift Concurrency", "Rust tips"])
        #expect(try await titles(nil, limit: 2, offset: 6) == [])
        #expect(try await titles(nil, limit: 0, offset: 0) == [])
        #expect(try await titles("s", limit: 2, offset: 1) == ["snake_case names", "1000 ways"], "paging a search")
        await expectStoreError(.invalid) { _ = try await titles(nil, limit: -1) }
        await expectStoreError(.invalid) { _ = try await titles(nil, offset: -1) }

        // Ties in updated_at still page without repeats or gaps.
        var tied: [RecordID] = []
        for i in 0..<3 { tied.append(try await store.makeConversation(alice, "Tied \(i)", updated: t0).id) }
        var paged: [RecordID] = []
        for offset in 0..<10 {
            paged += try await store.conversations(userID: alice.id, search: nil, limit: 1, offset: offset).map(\.id)
        }
        #expect(paged.count == 9)
        #expect(Set(paged) == Set([rust, grocery, swift, percent, thousand, snake].map(\.id) + tied))
        #expect(Set(paged.suffix(3)) == Set(tied), "the oldest last")
    }

    // MARK: Messages

    static func messageTree(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice")
        let chat = try await store.makeConversation(alice, "Tree")
        #expect(chat.currentLeafID == nil)

        let question = try await store.say(chat, alice, .user, "What is 2+2?", parent: nil, at: at(1))
        #expect(try await store.conversation(id: chat.id, userID: alice.id)?.currentLeafID == question.id)
        let answer = try await store.say(chat, alice, .assistant, "4", parent: question, at: at(2))
        #expect(try await store.conversation(id: chat.id, userID: alice.id)?.currentLeafID == answer.id)
        // Regenerating adds a sibling under the same parent: a second branch.
        let regenerated = try await store.say(chat, alice, .assistant, "Four.", parent: question, at: at(3))
        let afterBranch = try #require(try await store.conversation(id: chat.id, userID: alice.id))
        #expect(afterBranch.currentLeafID == regenerated.id)
        #expect(afterBranch.updatedAt > t0, "appending bumps updated_at")
        // Editing the question adds a second root.
        let edit = try await store.say(chat, alice, .user, "What is 3+3?", parent: nil, at: at(4))

        let tree = try await store.messages(conversationID: chat.id, userID: alice.id)
        #expect(tree == [question, answer, regenerated, edit], "every node, oldest first, as appended")
        #expect(Set(tree.filter { $0.parentID == question.id }.map(\.id)) == [answer.id, regenerated.id])
        #expect(tree.filter { $0.parentID == nil }.map(\.id) == [question.id, edit.id])
        #expect(answer.model == "smollm2" && answer.role == .assistant && answer.status == .complete)

        // Switching branches is a leaf update.
        var switched = try #require(try await store.conversation(id: chat.id, userID: alice.id))
        switched.currentLeafID = answer.id
        try await store.updateConversation(switched)
        #expect(try await store.conversation(id: chat.id, userID: alice.id)?.currentLeafID == answer.id)

        // A parent must be a message of the same conversation.
        let other = try await store.makeConversation(alice, "Other")
        let foreign = try await store.say(other, alice, .user, "elsewhere", parent: nil)
        await expectStoreError(.invalid) { _ = try await store.say(chat, alice, .assistant, "x", parent: foreign) }
        await expectStoreError(.invalid) {
            _ = try await store.appendMessage(Message(conversationID: chat.id, parentID: newRecordID(), role: .user, content: "x"),
                                              userID: alice.id)
        }
        await expectStoreError(.notFound) {
            _ = try await store.appendMessage(Message(conversationID: newRecordID(), parentID: nil, role: .user, content: "x"),
                                              userID: alice.id)
        }
        await expectStoreError(.conflict) {
            _ = try await store.appendMessage(Message(id: answer.id, conversationID: chat.id, parentID: nil, role: .user, content: "x"),
                                              userID: alice.id)
        }
        #expect(try await store.messages(conversationID: chat.id, userID: alice.id).count == 4, "rejected appends left nothing")
        #expect(try await store.conversation(id: chat.id, userID: alice.id)?.currentLeafID == answer.id, "nor moved the leaf")
    }

    static func streaming(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice"), bob = try await store.makeUser("bob")
        let chat = try await store.makeConversation(alice, "Streaming")
        let question = try await store.say(chat, alice, .user, "Tell me a story", parent: nil, at: at(1))
        let reply = try await store.say(chat, alice, .assistant, "", parent: question, at: at(2), status: .generating)
        try await store.updateMessage(id: reply.id, userID: alice.id, content: "Once upon", status: .generating)
        var stored = try await store.messages(conversationID: chat.id, userID: alice.id)
        #expect(stored.last?.content == "Once upon" && stored.last?.status == .generating)
        #expect(stored.last.map { $0.updatedAt > reply.updatedAt } == true, "updated_at moves")

        let bobsChat = try await store.makeConversation(bob, "Bob's")
        let bobsQuestion = try await store.say(bobsChat, bob, .user, "Hi", parent: nil)
        _ = try await store.say(bobsChat, bob, .assistant, "He", parent: bobsQuestion, status: .generating)

        // At start-up: every user's generating replies are cut off, kept as far as they got.
        #expect(try await store.markInterruptedReplies() == 2)
        stored = try await store.messages(conversationID: chat.id, userID: alice.id)
        #expect(stored.map(\.status) == [.complete, .incomplete])
        #expect(stored.last?.content == "Once upon")
        #expect(try await store.messages(conversationID: bobsChat.id, userID: bob.id).map(\.status) == [.complete, .incomplete])
        #expect(try await store.markInterruptedReplies() == 0)

        try await store.updateMessage(id: reply.id, userID: alice.id, content: "Once upon a time.", status: .complete)
        stored = try await store.messages(conversationID: chat.id, userID: alice.id)
        #expect(stored.last?.content == "Once upon a time." && stored.last?.status == .complete)
        await expectStoreError(.notFound) {
            try await store.updateMessage(id: newRecordID(), userID: alice.id, content: "x", status: .complete)
        }
    }

    static func cascade(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice")
        let doomed = try await store.makeConversation(alice, "Doomed")
        let kept = try await store.makeConversation(alice, "Kept")
        let question = try await store.say(doomed, alice, .user, "q", parent: nil, at: at(1))
        let reply = try await store.say(doomed, alice, .assistant, "a", parent: question, at: at(2))
        try await store.setFeedback(Feedback(messageID: reply.id, userID: alice.id, rating: 1, comment: "good", createdAt: at(3)))
        let keptQuestion = try await store.say(kept, alice, .user, "kept q", parent: nil)
        let keptReply = try await store.say(kept, alice, .assistant, "kept a", parent: keptQuestion)
        try await store.setFeedback(Feedback(messageID: keptReply.id, userID: alice.id, rating: -1, createdAt: at(3)))

        #expect(try await store.deleteConversation(id: doomed.id, userID: alice.id))
        #expect(try await store.messages(conversationID: doomed.id, userID: alice.id) == [])
        #expect(try await store.feedback(conversationID: doomed.id, userID: alice.id) == [])

        // The rows are gone, not just hidden: the same message ids can be used again (ids are unique), and no
        // feedback row of the old messages turns up under them.
        let again = try await store.makeConversation(alice, "Again")
        let reusedQuestion = try await store.appendMessage(
            Message(id: question.id, conversationID: again.id, parentID: nil, role: .user, content: "q2"), userID: alice.id)
        _ = try await store.appendMessage(
            Message(id: reply.id, conversationID: again.id, parentID: reusedQuestion.id, role: .assistant, content: "a2"),
            userID: alice.id)
        #expect(try await store.feedback(conversationID: again.id, userID: alice.id) == [])
        #expect(try await store.exportConversations(userID: alice.id).flatMap(\.feedback).map(\.messageID) == [keptReply.id])

        #expect(try await store.messages(conversationID: kept.id, userID: alice.id).map(\.id) == [keptQuestion.id, keptReply.id])
        #expect(try await store.feedback(conversationID: kept.id, userID: alice.id).count == 1)
    }

    // MARK: Feedback and instructions

    static func feedback(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice"), bob = try await store.makeUser("bob")
        let chat = try await store.makeConversation(alice, "Rated")
        let question = try await store.say(chat, alice, .user, "q", parent: nil, at: at(1))
        let first = try await store.say(chat, alice, .assistant, "a1", parent: question, at: at(2))
        let second = try await store.say(chat, alice, .assistant, "a2", parent: question, at: at(3))

        let up = Feedback(messageID: first.id, userID: alice.id, rating: 1, comment: "helpful", createdAt: at(10))
        try await store.setFeedback(up)
        #expect(try await store.feedback(conversationID: chat.id, userID: alice.id) == [up])
        let down = Feedback(messageID: first.id, userID: alice.id, rating: -1, comment: nil, createdAt: at(20))
        try await store.setFeedback(down)
        #expect(try await store.feedback(conversationID: chat.id, userID: alice.id) == [down], "the second call replaces the first")
        let other = Feedback(messageID: second.id, userID: alice.id, rating: 1, createdAt: at(30))
        try await store.setFeedback(other)
        #expect(try await store.feedback(conversationID: chat.id, userID: alice.id) == [down, other], "in message order")

        for rating in [0, 2, -2, 5] {
            await expectStoreError(.invalid) {
                try await store.setFeedback(Feedback(messageID: second.id, userID: alice.id, rating: rating))
            }
        }
        await expectStoreError(.invalid) { try await store.setFeedback(Feedback(messageID: question.id, userID: alice.id, rating: 1)) }
        await expectStoreError(.notFound) { try await store.setFeedback(Feedback(messageID: newRecordID(), userID: alice.id, rating: 1)) }
        #expect(try await store.feedback(conversationID: chat.id, userID: alice.id) == [down, other], "rejected calls wrote nothing")
        #expect(try await store.feedback(conversationID: chat.id, userID: bob.id) == [])
    }

    static func instructions(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice"), bob = try await store.makeUser("bob")
        #expect(try await store.customInstructions(userID: alice.id) == CustomInstructions())
        #expect(try await store.customInstructions(userID: alice.id) == CustomInstructions(aboutMe: "", howToAnswer: ""))
        let mine = CustomInstructions(aboutMe: "I write Swift.", howToAnswer: "Short answers, code first.")
        try await store.setCustomInstructions(mine, userID: alice.id)
        #expect(try await store.customInstructions(userID: alice.id) == mine)
        let changed = CustomInstructions(aboutMe: "I write Swift and Rust.", howToAnswer: "")
        try await store.setCustomInstructions(changed, userID: alice.id)
        #expect(try await store.customInstructions(userID: alice.id) == changed)
        #expect(try await store.customInstructions(userID: bob.id) == CustomInstructions())
    }

    // MARK: Export and import

    /// Alice's two conversations: a branched tree with feedback, and an empty one.
    static func buildHistory(_ store: any ParleyStore, _ alice: User) async throws -> (tree: Conversation, empty: Conversation) {
        let tree = try await store.createConversation(Conversation(userID: alice.id, title: "Branches", systemPrompt: "Be exact.",
                                                                   temperature: 0.2, model: "smollm2", createdAt: t0, updatedAt: t0))
        let root = try await store.say(tree, alice, .user, "Name a prime", parent: nil, at: at(1))
        let first = try await store.say(tree, alice, .assistant, "7", parent: root, at: at(2))
        let second = try await store.say(tree, alice, .assistant, "11", parent: root, at: at(3))
        let followUp = try await store.say(tree, alice, .user, "Another?", parent: second, at: at(4))
        let last = try await store.say(tree, alice, .assistant, "13", parent: followUp, at: at(5), status: .incomplete)
        try await store.setFeedback(Feedback(messageID: first.id, userID: alice.id, rating: 1, comment: "yes", createdAt: at(6)))
        try await store.setFeedback(Feedback(messageID: last.id, userID: alice.id, rating: -1, createdAt: at(7)))
        var leafOnSecond = try #require(try await store.conversation(id: tree.id, userID: alice.id))
        leafOnSecond.currentLeafID = first.id
        try await store.updateConversation(leafOnSecond)
        let empty = try await store.createConversation(Conversation(userID: alice.id, title: "Empty", createdAt: at(8), updatedAt: at(8)))
        return (try #require(try await store.conversation(id: tree.id, userID: alice.id)), empty)
    }

    static func exportImport(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice"), bob = try await store.makeUser("bob")
        _ = try await buildHistory(store, alice)
        let exported = try await store.exportConversations(userID: alice.id)
        #expect(exported.count == 2)
        #expect(exported.map { $0.messages.count }.sorted() == [0, 5])
        // Through JSON, as the server sends and receives it.
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        let document = try decoder.decode([ConversationExport].self, from: try encoder.encode(exported))
        #expect(document == exported)

        #expect(try await store.importConversations(document, userID: bob.id) == 2)
        let imported = try await store.exportConversations(userID: bob.id)
        #expect(imported.count == 2)
        for original in exported {
            let copy = try #require(imported.first { $0.conversation.title == original.conversation.title })
            try checkSameShape(original, copy, newOwner: bob.id)
        }
        #expect(try await store.exportConversations(userID: alice.id) == exported, "the source is untouched")

        // Importing the same document again makes another, independent copy.
        #expect(try await store.importConversations(document, userID: bob.id) == 2)
        let twice = try await store.conversations(userID: bob.id, search: nil, limit: 10, offset: 0)
        #expect(twice.count == 4 && Set(twice.map(\.id)).count == 4)
        #expect(try await store.importConversations([], userID: bob.id) == 0)
        await expectStoreError(.notFound) { _ = try await store.importConversations(document, userID: newRecordID()) }
    }

    /// `copy` is `original` under fresh ids owned by `newOwner`: same fields, same tree, leaf and feedback remapped.
    static func checkSameShape(_ original: ConversationExport, _ copy: ConversationExport, newOwner: RecordID) throws {
        let (a, b) = (original.conversation, copy.conversation)
        #expect(b.id != a.id && b.userID == newOwner)
        #expect(b.title == a.title && b.systemPrompt == a.systemPrompt && b.temperature == a.temperature && b.model == a.model)
        #expect(b.createdAt == a.createdAt && b.updatedAt == a.updatedAt)
        try #require(copy.messages.count == original.messages.count)
        var newID: [RecordID: RecordID] = [:]
        for (old, new) in zip(original.messages, copy.messages) {
            #expect(new.id != old.id)
            #expect(new.conversationID == b.id)
            #expect(new.role == old.role && new.content == old.content && new.model == old.model && new.status == old.status)
            #expect(new.createdAt == old.createdAt && new.updatedAt == old.updatedAt)
            newID[old.id] = new.id
        }
        for (old, new) in zip(original.messages, copy.messages) {
            #expect(new.parentID == old.parentID.flatMap { newID[$0] }, "the tree keeps its shape")
        }
        #expect(b.currentLeafID == a.currentLeafID.flatMap { newID[$0] })
        #expect(copy.feedback.count == original.feedback.count)
        for (old, new) in zip(original.feedback, copy.feedback) {
            #expect(new.messageID == newID[old.messageID] && new.userID == newOwner)
            #expect(new.rating == old.rating && new.comment == old.comment && new.createdAt == old.createdAt)
        }
    }

    static func importRejects(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice")
        let conversationID = newRecordID()
        let conversation = Conversation(id: conversationID, userID: "someone-else", title: "Imported", createdAt: t0, updatedAt: t0)
        let root = Message(conversationID: conversationID, parentID: nil, role: .user, content: "q", createdAt: at(1), updatedAt: at(1))
        let reply = Message(conversationID: conversationID, parentID: root.id, role: .assistant, content: "a",
                            status: .generating, createdAt: at(2), updatedAt: at(2))
        let good = ConversationExport(conversation: conversation, messages: [reply, root], feedback: [])

        let orphan = Message(conversationID: conversationID, parentID: newRecordID(), role: .assistant, content: "lost")
        var badParent = good
        badParent.messages.append(orphan)
        let error = await expectStoreError(.invalid) { _ = try await store.importConversations([good, badParent], userID: alice.id) }
        #expect(error.map { "\($0)".contains("parent") } == true)
        #expect(try await store.exportConversations(userID: alice.id) == [], "a rejected document imports nothing")

        var cycle = good
        let a = newRecordID(), b = newRecordID()
        cycle.messages = [Message(id: a, conversationID: conversationID, parentID: b, role: .user, content: "a"),
                          Message(id: b, conversationID: conversationID, parentID: a, role: .assistant, content: "b")]
        await expectStoreError(.invalid) { _ = try await store.importConversations([cycle], userID: alice.id) }

        var badLeaf = good
        badLeaf.conversation.currentLeafID = newRecordID()
        await expectStoreError(.invalid) { _ = try await store.importConversations([badLeaf], userID: alice.id) }

        var badRating = good
        badRating.feedback = [Feedback(messageID: reply.id, userID: "someone-else", rating: 3)]
        await expectStoreError(.invalid) { _ = try await store.importConversations([badRating], userID: alice.id) }

        var feedbackElsewhere = good
        feedbackElsewhere.feedback = [Feedback(messageID: newRecordID(), userID: "someone-else", rating: 1)]
        await expectStoreError(.invalid) { _ = try await store.importConversations([feedbackElsewhere], userID: alice.id) }

        var wrongConversation = good
        wrongConversation.messages.append(Message(conversationID: newRecordID(), parentID: nil, role: .user, content: "x"))
        await expectStoreError(.invalid) { _ = try await store.importConversations([wrongConversation], userID: alice.id) }

        #expect(try await store.exportConversations(userID: alice.id) == [])

        // Children listed before their parents are fine; a reply left generating arrives cut off.
        var withLeaf = good
        withLeaf.conversation.currentLeafID = reply.id
        #expect(try await store.importConversations([withLeaf], userID: alice.id) == 1)
        let imported = try #require(try await store.exportConversations(userID: alice.id).first)
        #expect(imported.messages.map(\.content) == ["q", "a"])
        #expect(imported.messages.map(\.status) == [.complete, .incomplete])
        #expect(imported.messages[1].parentID == imported.messages[0].id)
        #expect(imported.conversation.currentLeafID == imported.messages[1].id)
        #expect(imported.conversation.userID == alice.id)
    }

    // MARK: Isolation

    static func isolation(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice"), bob = try await store.makeUser("bob")
        let secret = try await store.createConversation(Conversation(userID: alice.id, title: "Alice's secret plans",
                                                                     createdAt: t0, updatedAt: t0))
        let question = try await store.say(secret, alice, .user, "the password is swordfish", parent: nil, at: at(1))
        let answer = try await store.say(secret, alice, .assistant, "noted", parent: question, at: at(2))
        try await store.setFeedback(Feedback(messageID: answer.id, userID: alice.id, rating: 1, createdAt: at(3)))
        let key = APIKey(userID: alice.id, name: "alice", prefix: "pk-alic", keyHash: "alice-key-hash", createdAt: t0)
        try await store.createAPIKey(key)
        let aliceView = try await store.exportConversations(userID: alice.id)

        // Bob passes Alice's ids to every method.
        #expect(try await store.conversation(id: secret.id, userID: bob.id) == nil)
        #expect(try await store.conversations(userID: bob.id, search: nil, limit: 50, offset: 0) == [])
        #expect(try await store.conversations(userID: bob.id, search: "swordfish", limit: 50, offset: 0) == [])
        #expect(try await store.conversations(userID: bob.id, search: "secret", limit: 50, offset: 0) == [])
        var hijacked = secret
        hijacked.userID = bob.id
        hijacked.title = "Bob's now"
        await expectStoreError(.notFound) { try await store.updateConversation(hijacked) }
        hijacked.currentLeafID = newRecordID()
        await expectStoreError(.notFound) { try await store.updateConversation(hijacked) }
        #expect(try await store.deleteConversation(id: secret.id, userID: bob.id) == false)
        await expectStoreError(.notFound) { _ = try await store.say(secret, bob, .user, "mine now", parent: question) }
        await expectStoreError(.notFound) { _ = try await store.say(secret, bob, .user, "mine now", parent: nil) }
        #expect(try await store.messages(conversationID: secret.id, userID: bob.id) == [])
        await expectStoreError(.notFound) {
            try await store.updateMessage(id: answer.id, userID: bob.id, content: "overwritten", status: .complete)
        }
        await expectStoreError(.notFound) { try await store.setFeedback(Feedback(messageID: answer.id, userID: bob.id, rating: -1)) }
        #expect(try await store.feedback(conversationID: secret.id, userID: bob.id) == [])
        #expect(try await store.revokeAPIKey(id: key.id, userID: bob.id, now: at(10)) == false)
        #expect(try await store.apiKeys(userID: bob.id) == [])
        #expect(try await store.exportConversations(userID: bob.id) == [])

        // Nor through his own conversation: Alice's messages are not parents or leaves there.
        let bobs = try await store.makeConversation(bob, "Bob's")
        await expectStoreError(.invalid) { _ = try await store.say(bobs, bob, .user, "reply", parent: answer) }
        var bobsLeaf = bobs
        bobsLeaf.currentLeafID = answer.id
        await expectStoreError(.invalid) { try await store.updateConversation(bobsLeaf) }

        // Alice's data is exactly as it was.
        #expect(try await store.exportConversations(userID: alice.id) == aliceView)
        #expect(try await store.apiKeys(userID: alice.id) == [key])
        #expect(try await store.useAPIKey(keyHash: "alice-key-hash", now: at(20))?.userID == alice.id)
    }

    // MARK: Concurrency and durability

    static func concurrentAppends(_ store: any ParleyStore) async throws {
        let alice = try await store.makeUser("alice")
        let chat = try await store.makeConversation(alice, "Busy")
        let root = try await store.say(chat, alice, .user, "go", parent: nil, at: t0)
        let appended = try await withThrowingTaskGroup(of: Message.self) { group in
            for i in 0..<50 {
                group.addTask {
                    try await store.say(chat, alice, .assistant, "reply \(i)", parent: root, at: at(Double(i + 1)))
                }
            }
            return try await group.reduce(into: [Message]()) { $0.append($1) }
        }
        #expect(appended.count == 50)
        let tree = try await store.messages(conversationID: chat.id, userID: alice.id)
        #expect(tree.count == 51)
        #expect(Set(tree.map(\.id)) == Set(appended.map(\.id) + [root.id]))
        #expect(tree.dropFirst().map(\.content) == (0..<50).map { "reply \($0)" }, "oldest first")
        let leaf = try #require(try await store.conversation(id: chat.id, userID: alice.id)?.currentLeafID)
        #expect(appended.contains { $0.id == leaf }, "the leaf is one of the appended replies")
    }

    static func reopening(_ h: Harness) async throws {
        let store = h.store
        let alice = try await store.makeUser("alice")
        let chat = try await store.makeConversation(alice, "Durable")
        let question = try await store.say(chat, alice, .user, "remember me", parent: nil, at: at(1))
        try await store.setSetting("signup_enabled", value: "false")
        let before = try await store.exportConversations(userID: alice.id)
        try await store.close()

        let reopened = try await h.openAnother()
        #expect(try await reopened.user(id: alice.id) == alice)
        #expect(try await reopened.exportConversations(userID: alice.id) == before)
        #expect(try await reopened.setting("signup_enabled") == "false")
        #expect(try await reopened.messages(conversationID: chat.id, userID: alice.id) == [question])
        // The closed store refuses work instead of touching the database.
        await expectStoreError(.unavailable) { _ = try await store.userCount() }
    }

    static func crash(_ h: Harness) async throws {
        let store = h.store
        let alice = try await store.makeUser("alice")
        let chat = try await store.makeConversation(alice, "Interrupted")
        let question = try await store.say(chat, alice, .user, "write a poem", parent: nil, at: at(1))
        let reply = try await store.say(chat, alice, .assistant, "", parent: question, at: at(2), status: .generating)
        try await store.updateMessage(id: reply.id, userID: alice.id, content: "Roses are", status: .generating)

        // The process "dies": the first store is never closed before the next start opens the database.
        let restarted = try await h.openAnother()
        #expect(try await restarted.markInterruptedReplies() == 1)
        let tree = try await restarted.messages(conversationID: chat.id, userID: alice.id)
        #expect(tree.map(\.content) == ["write a poem", "Roses are"], "every write returned before the crash is there")
        #expect(tree.map(\.status) == [.complete, .incomplete])
        #expect(try await restarted.conversation(id: chat.id, userID: alice.id)?.currentLeafID == reply.id)
    }
}
