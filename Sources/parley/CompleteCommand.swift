import ArgumentParser
import Foundation
import ParleyEngine
import ParleyTokenizer

struct Complete: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a raw prompt (text or token ids) and print the result as one JSON object.")

    @OptionGroup var options: ModelOptions

    @Option(help: "The prompt as comma-separated token ids (used as given: no BOS is added).")
    var promptIds: String?

    @Argument(help: "The prompt text (special tokens parsed, BOS as the model's metadata says).")
    var prompt: String?

    @Option(help: "Tokens to generate (0 with --echo scores the prompt only).")
    var maxTokens: Int = 32

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Report the K most likely tokens at each generated step.")
    var topLogprobs: Int?

    @Option(help: "Stop before this text (repeatable).")
    var stop: [String] = []

    @Flag(help: "Also report the distribution that predicted each prompt token.")
    var echo = false

    @Flag(help: "Print JSON (the only output format).")
    var json = false

    func validate() throws {
        if (promptIds == nil) == (prompt == nil) { throw ValidationError("give either --prompt-ids or a PROMPT") }
        if maxTokens < 0 { throw ValidationError("--max-tokens must be ≥ 0") }
        if let topLogprobs, topLogprobs < 0 { throw ValidationError("--top-logprobs must be ≥ 0") }
    }

    struct Alternative: Encodable { let id: TokenID; let logprob: Float }
    struct Entry: Encodable { let id: TokenID; let logprob: Float; let top: [Alternative] }
    struct Output: Encodable {
        let prompt_tokens: [TokenID]
        let tokens: [TokenID]
        let text: String
        let finish_reason: String
        let logprobs: [Entry]?
        let prompt_logprobs: [Entry?]?
    }

    func run() throws {
        let model = try options.load()
        let promptTokens: [TokenID]
        if let promptIds {
            promptTokens = try promptIds.split(separator: ",").map { part in
                guard let id = TokenID(part.trimmingCharacters(in: .whitespaces)) else {
                    throw CLIError("--prompt-ids: '\(part)' is not a token id")
                }
                return id
            }
        } else {
            promptTokens = model.tokenizePrompt(prompt ?? "")
        }
        let session = model.makeSession(contextLength: options.contextLength, threads: options.threads)
        var parameters = GenerationParameters()
        parameters.maxTokens = maxTokens
        parameters.sampling = sampling.parameters(defaultTemperature: 0)
        parameters.stopStrings = stop
        parameters.topLogprobs = topLogprobs ?? 0
        parameters.logprobs = topLogprobs != nil
        parameters.echoPromptLogprobs = echo
        let result = try session.generate(prompt: promptTokens, parameters: parameters)

        func entry(_ e: TokenLogprob) -> Entry {
            Entry(id: e.id, logprob: e.logprob, top: e.top.map { Alternative(id: $0.id, logprob: $0.logprob) })
        }
        let output = Output(
            prompt_tokens: result.promptTokens, tokens: result.tokens, text: result.text,
            finish_reason: result.finishReason.rawValue,
            logprobs: topLogprobs != nil ? result.logprobs.map(entry) : nil,
            prompt_logprobs: echo ? result.promptLogprobs.map { $0.map(entry) } : nil)
        writeOut(try jsonString(output) + "\n")
    }
}
