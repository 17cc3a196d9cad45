import ArgumentParser
import Foundation
import ParleyEngine
import ParleyMemory
import ParleyModels
import ParleyStore

/// `parley memory …`: a user's saved memories in the app's database — add, list, edit, delete, search.
///
/// The stable contract for outside checks: `parley memory add --user NAME TEXT` saves a memory;
/// `parley memory search --user NAME --top K --json QUERY` prints `[{"text", "score"}…]` best first, from the
/// same hybrid retrieval chat uses.
struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "A user's saved memories: add, list, edit, delete, and hybrid search (full-text + embeddings).",
        subcommands: [MemoryAdd.self, MemoryList.self, MemoryEdit.self, MemoryDelete.self, MemorySearch.self]
    )
}

/// Where memories live and which model embeds them; every memory subcommand takes these.
struct MemoryOptions: ParsableArguments {
    @Option(name: .long, help: "The user's sign-in name; `add` creates the user if there is none.")
    var user: String

    @Option(name: .customLong("database"),
            help: "The app's database: a SQLite path or sqlite:// URL, or postgres://… (default: $PARLEY_HOME/parley.sqlite).")
    var database: String?

    @Option(name: .customLong("embedding-model"),
            help: "A sentence-transformers model directory, or a name under $PARLEY_HOME/embedding-models (default: $PARLEY_EMBEDDING_MODEL, else all-MiniLM-L6-v2, fetched on first use).")
    var embeddingModel: String?

    @Option(name: [.customShort("t"), .long], help: "Worker threads for the embedding model (default: all cores).")
    var threads: Int?

    func validate() throws {
        if user.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--user must name a user") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Opens the store and the model, resolves the user, and runs `body`; errors become one-line CLI errors.
    /// An unknown user is created (`createUser`), answered with `ifNoUser`, or an error.
    func withService<T>(createUser: Bool, ifNoUser: T? = nil, _ body: (MemoryService, RecordID) async throws -> T) async throws -> T {
        let store: any ParleyStore
        do { store = try await openStore(try Serve.databaseURL(database)) } catch { throw CLIError("\(error)") }
        do {
            guard let memories = store as? any MemoryStore else { throw CLIError("this database backend keeps no memories") }
            let encoder = try SentenceEncoder(directory: try await resolveEmbeddingModel(embeddingModel),
                                              threads: threads ?? Model.defaultThreads)
            let userID: RecordID
            do {
                userID = try await UserDirectory.userID(named: user, in: store, create: createUser)
            } catch MemoryError.unknownUser(let name) {
                try? await store.close()
                if let ifNoUser { return ifNoUser }
                throw CLIError(MemoryError.unknownUser(name).description)
            }
            let result = try await body(MemoryService(store: memories, embedder: encoder), userID)
            try? await store.close()
            return result
        } catch let error as CLIError {
            try? await store.close()
            throw error
        } catch {
            try? await store.close()
            throw CLIError("\(error)")
        }
    }
}

struct MemoryAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Save a memory for a user.")

    @OptionGroup var options: MemoryOptions

    @Argument(help: "The memory's text.")
    var text: [String]

    @Flag(name: .long, help: "Print the saved memory as JSON {\"id\", \"text\"}.")
    var json = false

    func validate() throws {
        if text.joined().trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("the memory text is empty") }
    }

    func run() async throws {
        let text = text.joined(separator: " ")
        let memory = try await options.withService(createUser: true) { service, userID in
            try await service.add(userID: userID, text: text)
        }
        writeOut(json ? try jsonString(MemoryLine(memory)) + "\n" : "saved \(memory.id)\n")
    }
}

struct MemoryList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a user's memories, newest first.")

    @OptionGroup var options: MemoryOptions

    @Flag(name: .long, help: "Print [{\"id\", \"text\"}…].")
    var json = false

    func run() async throws {
        let memories = try await options.withService(createUser: false) { service, userID in try await service.list(userID: userID) }
        if json {
            writeOut(try jsonString(memories.map(MemoryLine.init)) + "\n")
        } else {
            writeOut(memories.map { "\($0.id)\t\($0.text)\n" }.joined())
        }
    }
}

struct MemoryEdit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "edit", abstract: "Replace a memory's text.")

    @OptionGroup var options: MemoryOptions

    @Argument(help: "The memory's id (from `parley memory list`).")
    var id: String

    @Argument(help: "The new text.")
    var text: [String]

    func run() async throws {
        let text = text.joined(separator: " ")
        let found = try await options.withService(createUser: false) { service, userID in
            try await service.edit(userID: userID, id: id, text: text)
        }
        guard found else { throw CLIError("user \(options.user) has no memory \(id)") }
        writeOut("updated \(id)\n")
    }
}

struct MemoryDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a memory.")

    @OptionGroup var options: MemoryOptions

    @Argument(help: "The memory's id (from `parley memory list`).")
    var id: String

    func run() async throws {
        let found = try await options.withService(createUser: false) { service, userID in
            try await service.delete(userID: userID, id: id)
        }
        guard found else { throw CLIError("user \(options.user) has no memory \(id)") }
        writeOut("deleted \(id)\n")
    }
}

struct MemorySearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search a user's memories: full-text and embedding ranks fused (reciprocal rank fusion).")

    @OptionGroup var options: MemoryOptions

    @Option(name: .long, help: "How many memories to return.")
    var top: Int = 5

    @Flag(name: .long, help: "Print [{\"text\", \"score\"}…], best first.")
    var json = false

    @Argument(help: "The query.")
    var query: [String]

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if query.joined().trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("give a QUERY") }
    }

    func run() async throws {
        let query = query.joined(separator: " ")
        // An unknown user has no memories: an empty result, not an error, so checks can ask about anyone.
        let hits = try await options.withService(createUser: false, ifNoUser: []) { service, userID in
            try await service.search(userID: userID, query: query, top: top)
        }
        if json {
            writeOut(try jsonString(hits.map { SearchLine(text: $0.memory.text, score: $0.score) }) + "\n")
        } else {
            writeOut(hits.map { String(format: "%.4f\t", $0.score) + $0.memory.text + "\n" }.joined())
        }
    }

    struct SearchLine: Encodable {
        let text: String
        let score: Double
    }
}

/// A memory as the CLI prints it.
struct MemoryLine: Encodable {
    let id: String
    let text: String
    init(_ memory: Memory) { id = memory.id; text = memory.text }
}
