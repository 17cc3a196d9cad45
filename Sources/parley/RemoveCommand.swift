import ArgumentParser
import Foundation
import ParleyModels

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Delete models from the store.", aliases: ["remove"])

    @Argument(help: "Names of installed models.")
    var names: [String]

    func validate() throws {
        if names.isEmpty { throw ValidationError("give the name of a model to remove (parley models lists them)") }
    }

    func run() throws {
        let store = ModelStore()
        for name in names {
            let size = try store.manifest(of: name.lowercased())?.size
            try runBlocking { try await store.remove(name.lowercased()) }
            writeOut("removed \(name.lowercased())" + (size.map { " (\(Format.bytes($0)))" } ?? "") + "\n")
        }
    }
}
