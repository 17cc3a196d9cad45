import ArgumentParser
import Foundation
import ParleyEngine
import ParleyModels

@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "A self-hosted assistant platform: a native LLM engine, an OpenAI-compatible server and a chat app.",
        subcommands: [Run.self, Complete.self, Tokenize.self, Template.self, Bench.self, Serve.self, Pull.self,
                      Models.self, Show.self, Remove.self, FuzzGGUF.self, Wellbeing.self, Users.self, Credits.self,
                      Eval.self, Learn.self, Adapters.self, MemoryCommand.self]
    )
}

/// Options every command that loads a model shares.
struct ModelOptions: ParsableArguments {
    @Option(name: [.customShort("m"), .long],
            help: "A .gguf file or a model name from the store; the default model is pulled on first use.")
    var model: String = Catalog.defaultModelName

    @Option(name: [.customShort("t"), .long], help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("ctx"), help: "Context length in tokens (default: the model's, at most 4096).")
    var contextLength: Int?

    @Option(help: "A GGUF LoRA adapter (llama.cpp's format, e.g. from `parley learn`) applied without merging.")
    var adapter: String?

    init() {}

    /// For commands with their own -m/-t (bench): every option is set here, since reading one a parser never
    /// decoded traps.
    init(model: String, threads: Int?) {
        self.model = model
        self.threads = threads
        self.contextLength = nil
        self.adapter = nil
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let contextLength, contextLength < 1 { throw ValidationError("--ctx must be at least 1") }
    }

    /// The model's GGUF path: `model` as a file, or as a store name (a catalog model is pulled first).
    func modelPath() throws -> String {
        try resolveModelPath(model)
    }

    func load() throws -> Model {
        try Model(path: modelPath(), adapter: adapter.map { try LoRAAdapter(path: $0) })
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
