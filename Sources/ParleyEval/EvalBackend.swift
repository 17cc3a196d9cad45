import Foundation
import ParleyEngine
import ParleyTokenizer

/// How a backend answered a multiple-choice item.
public enum ChoiceAnswer: Sendable {
    /// The log-likelihood of every choice.
    case logLikelihoods([Double])
    /// A letter picked from a lettered list (index, or nil when the reply named none), and the reply.
    case lettered(Int?, reply: String)
}

/// What a task needs from a model: a local GGUF through the engine, or a provider's API.
public protocol EvalBackend: AnyObject {
    /// The model's name in results.
    var modelName: String { get }
    /// Changes when the model does (file size and date, or provider URL), so an old run log is not resumed.
    var fingerprint: String { get }
    /// "loglikelihood" or "lettered_choice": how multiple choice is answered.
    var multipleChoiceMethod: String { get }

    func answer(_ item: MultipleChoiceItem) async throws -> ChoiceAnswer
    /// The text's log-likelihood (natural log) given its context, and its token count.
    func logLikelihood(of text: String, after context: String) async throws -> (logLikelihood: Double, tokens: Int)
    func generate(_ prompt: String, stop: [String], maxTokens: Int, temperature: Double, seed: UInt64) async throws -> String
    /// A greedy reply to one user message, through the model's chat template.
    func chat(_ message: String, maxTokens: Int) async throws -> String
}

/// A GGUF model run by the engine in this process.
public final class LocalModelBackend: EvalBackend {
    public let model: Model
    public let scorer: EngineLogLikelihood
    private let session: Session
    public let modelName: String
    public let fingerprint: String
    public var multipleChoiceMethod: String { "loglikelihood" }

    public init(model: Model, name: String, threads: Int, contextLength: Int = 2048) {
        self.model = model
        modelName = name
        scorer = EngineLogLikelihood(model: model, threads: threads, contextLength: contextLength)
        session = model.makeSession(contextLength: contextLength, threads: threads)
        let attributes = try? FileManager.default.attributesOfItem(atPath: model.path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        let date = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        fingerprint = "gguf:\(size):\(Int(date))"
    }

    public func answer(_ item: MultipleChoiceItem) async throws -> ChoiceAnswer {
        let requests = zip(item.contexts, item.continuations).map { scorer.tokenize(context: $0, continuation: $1) }
        return .logLikelihoods(try scorer.score(requests).map(\.logLikelihood))
    }

    public func logLikelihood(of text: String, after context: String) async throws -> (logLikelihood: Double, tokens: Int) {
        let request = scorer.tokenize(context: context, continuation: text)
        let score = try scorer.score([request])
        return (score[0].logLikelihood, request.continuation.count)
    }

    public func generate(_ prompt: String, stop: [String], maxTokens: Int, temperature: Double, seed: UInt64) async throws -> String {
        var parameters = GenerationParameters()
        parameters.maxTokens = maxTokens
        parameters.stopStrings = stop
        parameters.sampling.temperature = Float(temperature)
        parameters.sampling.seed = seed
        let tokens = model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
        return try session.generate(prompt: tokens, parameters: parameters).text
    }

    public func chat(_ message: String, maxTokens: Int) async throws -> String {
        var parameters = GenerationParameters()
        parameters.maxTokens = maxTokens
        parameters.stopStrings = model.chatStopStrings
        parameters.sampling.temperature = 0
        let text = try model.renderChat([ChatMessage(role: "user", content: message)], addGenerationPrompt: true)
        return try session.generate(prompt: model.tokenizePrompt(text), parameters: parameters).text
    }
}

/// A model behind an OpenAI-compatible API. Multiple choice uses prompt log-probabilities when the provider
/// reports them (checked once), and otherwise asks for the letter of the answer in a lettered list.
public final class ProviderBackend: EvalBackend {
    public let client: ProviderClient
    public var modelName: String { "\(client.configuration.name):\(client.configuration.model)" }
    public var fingerprint: String { "provider:\(client.configuration.baseURL)" }
    public private(set) var multipleChoiceMethod = "lettered_choice"

    public init(client: ProviderClient) { self.client = client }

    /// Asks the provider once whether it scores prompts.
    public func detectMethod() async throws {
        let probe = try await client.promptLogprobs("The capital of France is Paris.")
        multipleChoiceMethod = probe == nil ? "lettered_choice" : "loglikelihood"
    }

    static let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ").map(String.init)

    /// The lettered-choice prompt: the question, the options as "A. …", and an instruction to answer with a letter.
    public static func letteredPrompt(_ item: MultipleChoiceItem) -> String {
        var lines = [item.question.trimmingCharacters(in: .whitespacesAndNewlines), ""]
        for (i, option) in item.options.enumerated() where i < letters.count { lines.append("\(letters[i]). \(option)") }
        lines += ["", "Answer with the letter of the correct option only."]
        return lines.joined(separator: "\n")
    }

    /// The first standalone option letter in a reply.
    public static func parseLetter(_ reply: String, options: Int) -> Int? {
        let valid = Set(letters.prefix(options))
        let words = reply.uppercased().split(whereSeparator: { !$0.isLetter })
        return words.first(where: { valid.contains(String($0)) }).flatMap { letters.firstIndex(of: String($0)) }
    }

    public func answer(_ item: MultipleChoiceItem) async throws -> ChoiceAnswer {
        if multipleChoiceMethod == "loglikelihood" {
            var values: [Double] = []
            for (context, continuation) in zip(item.contexts, item.continuations) {
                values.append(try await logLikelihood(of: continuation, after: context).logLikelihood)
            }
            return .logLikelihoods(values)
        }
        let reply = try await client.chat([("user", Self.letteredPrompt(item))], maxTokens: 8)
        return .lettered(Self.parseLetter(reply, options: item.options.count), reply: reply)
    }

    public func logLikelihood(of text: String, after context: String) async throws -> (logLikelihood: Double, tokens: Int) {
        guard let entries = try await client.promptLogprobs(context + text) else {
            throw EvalError("\(modelName) reports no prompt log-probabilities; this task needs them")
        }
        // Tokens that start inside the continuation (offsets count characters, as OpenAI's do).
        let start = context.count
        let scored = entries.filter { $0.offset >= start }
        return (scored.reduce(0) { $0 + $1.logprob }, scored.count)
    }

    public func generate(_ prompt: String, stop: [String], maxTokens: Int, temperature: Double, seed: UInt64) async throws -> String {
        try await client.complete(prompt, maxTokens: maxTokens, temperature: temperature, stop: stop)
    }

    public func chat(_ message: String, maxTokens: Int) async throws -> String {
        try await client.chat([("user", message)], maxTokens: maxTokens)
    }
}
