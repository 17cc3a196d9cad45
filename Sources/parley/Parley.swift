import ArgumentParser
import Foundation
import ParleyEngine

@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "A self-hosted assistant platform: a native LLM engine, an OpenAI-compatible server and a chat app.",
        subcommands: [Run.self, Complete.self, Tokenize.self, Template.self, Serve.self]
    )
}

/// Options every command that loads a model shares.
struct ModelOptions: ParsableArguments {
    @Option(name: [.customShort("m"), .long], help: "A .gguf model file.")
    var model: String

    @Option(name: [.customShort("t"), .long], help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("ctx"), help: "Context length in tokens (default: the model's, at most 4096).")
    var contextLength: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let contextLength, contextLength < 1 { throw ValidationError("--ctx must be at least 1") }
    }

    func load() throws -> Model {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIError("no model file at '\(model)': give the path of a .gguf file")
        }
        return try Model(path: model)
    }
}

/// An error for the user, printed as one line.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes text to stdout exactly as given (no added newline), flushed.
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
