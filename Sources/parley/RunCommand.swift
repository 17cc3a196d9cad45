import ArgumentParser
import Foundation
import ParleyEngine
import ParleyTokenizer

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model in the terminal: one reply to PROMPT, or an interactive chat without it.",
        discussion: "In the interactive chat, /bye leaves and /clear forgets the conversation.")

    @OptionGroup var options: ModelOptions

    @Argument(help: "A single message to answer; omit it for an interactive chat.")
    var prompt: String?

    @Option(help: "A system message for the conversation.")
    var system: String?

    @Option(help: "Most tokens in one reply.")
    var maxTokens: Int = 1024

    @OptionGroup var sampling: SamplingOptions

    func run() throws {
        let model = try options.load()
        let session = model.makeSession(contextLength: options.contextLength, threads: options.threads)
        var parameters = GenerationParameters()
        parameters.maxTokens = maxTokens
        parameters.sampling = sampling.parameters(defaultTemperature: 0.8)
        parameters.stopStrings = model.chatStopStrings

        var history: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []

        func reply() throws {
            let prompt = try model.renderChat(history, addGenerationPrompt: true)
            let tokens = model.tokenizer.encode(prompt, addSpecial: !promptStartsWithBOS(prompt, model), parseSpecial: true)
            var answer = ""
            let result = try session.generate(prompt: tokens, parameters: parameters) { token in
                writeOut(token.text)
                answer += token.text
                return true
            }
            writeOut("\n")
            if result.finishReason == .contextFull {
                FileHandle.standardError.write(Data("[the context is full; /clear starts over]\n".utf8))
            }
            history.append(ChatMessage(role: "assistant", content: answer))
        }

        if let prompt {
            history.append(ChatMessage(role: "user", content: prompt))
            try reply()
            return
        }
        let interactive = isatty(STDIN_FILENO) != 0
        while true {
            if interactive { writeOut(">>> ") }
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/bye" { break }
            if text == "/clear" {
                history.removeAll { $0.role != "system" }
                session.reset()
                if interactive { writeOut("(conversation cleared)\n") }
                continue
            }
            history.append(ChatMessage(role: "user", content: text))
            do {
                try reply()
            } catch let error as EngineError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                history.removeLast()
            }
        }
    }
}

/// Templates such as Gemma's emit BOS themselves; adding another would double it (llama.cpp warns about it).
func promptStartsWithBOS(_ prompt: String, _ model: Model) -> Bool {
    guard let bos = model.tokenizer.bos else { return false }
    let text = model.tokenizer.tokenText(bos)
    return !text.isEmpty && prompt.hasPrefix(text)
}
