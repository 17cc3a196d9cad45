import ArgumentParser
import Foundation
import ParleyServer
import ParleyStore

/// Where a command that reads the chat app's database finds it.
struct DatabaseOption: ParsableArguments {
    @Option(name: .customLong("database"),
            help: "A SQLite file path or sqlite:// URL, or postgres://… (default: $PARLEY_HOME/parley.sqlite).")
    var database: String?

    func open() async throws -> any ParleyStore {
        do {
            return try await openStore(try Serve.databaseURL(database))
        } catch let e as StoreError {
            throw CLIError(e.description)
        }
    }
}

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the chat app's accounts.",
        subcommands: [Add.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user and print a new API key for it (Authorization: Bearer KEY on /api and /v1)."
        )

        @Argument(help: "The user's sign-in name.") var name: String
        @Flag(name: .long, help: "Give the user admin rights.") var admin = false
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            do {
                let (_, key) = try await UserProvisioning.addUser(name: name, admin: admin, store: store)
                writeOut(key + "\n")
            } catch StoreError.conflict {
                try? await store.close()
                throw CLIError("a user named '\(name)' already exists")
            } catch let e as StoreError {
                try? await store.close()
                throw CLIError(e.description)
            }
            try? await store.close()
        }
    }
}
