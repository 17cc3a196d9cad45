import ArgumentParser
import ParleyEngine

/// Sampling flags shared by the commands that generate text.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy (default: 0.8 for run, 0 for complete).")
    var temperature: Float?

    @Option(help: "Top-k cut (0: off).")
    var topK: Int = 40

    @Option(help: "Top-p (nucleus) cut.")
    var topP: Float = 0.95

    @Option(help: "Min-p cut.")
    var minP: Float = 0.05

    @Option(help: "Repetition penalty over the last 64 tokens (1: off).")
    var repeatPenalty: Float = 1

    @Option(help: "OpenAI-style presence penalty.")
    var presencePenalty: Float = 0

    @Option(help: "OpenAI-style frequency penalty.")
    var frequencyPenalty: Float = 0

    @Option(help: "Random seed (same seed, same output).")
    var seed: UInt64?

    func validate() throws {
        if let temperature, temperature < 0 { throw ValidationError("--temperature must be ≥ 0") }
        if topK < 0 { throw ValidationError("--top-k must be ≥ 0") }
        if !(0...1).contains(topP) { throw ValidationError("--top-p must be within 0...1") }
        if !(0...1).contains(minP) { throw ValidationError("--min-p must be within 0...1") }
        if repeatPenalty <= 0 { throw ValidationError("--repeat-penalty must be > 0") }
    }

    func parameters(defaultTemperature: Float) -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature ?? defaultTemperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.repetitionPenalty = repeatPenalty
        p.presencePenalty = presencePenalty
        p.frequencyPenalty = frequencyPenalty
        p.seed = seed
        return p
    }
}
