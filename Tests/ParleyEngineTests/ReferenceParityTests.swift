import Foundation
import ParleyEngine
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// llama.cpp's outputs for the same model files (Tests/Fixtures/reference-*.json, from llama.cpp build 0c1e570).
struct Reference: Decodable {
    struct Alternative: Decodable { let id: TokenID; let logprob: Float }
    struct Step: Decodable { let id: TokenID; let logprob: Float; let top: [Alternative] }
    struct Greedy: Decodable {
        let prompt: String
        let prompt_ids: [TokenID]
        let generated_ids: [TokenID]
        let text: String
        let steps: [Step]
    }
    let greedy: [Greedy]

    static func load(_ name: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: TestModels.fixture(name)))
    }
}

/// The acceptance criteria of the engine issue, shared by both models.
struct ParityReport: CustomStringConvertible {
    var differences: [Float] = []
    var decisiveSteps = 0
    var decisiveAgreements = 0
    var greedyMismatches: [String] = []

    var mean: Float { differences.reduce(0, +) / Float(max(differences.count, 1)) }
    var p95: Float {
        let sorted = differences.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Float(sorted.count) * 0.95))]
    }
    var agreement: Float { Float(decisiveAgreements) / Float(max(decisiveSteps, 1)) }

    var description: String {
        "mean |Δlogprob| \(mean), p95 \(p95), top-1 agreement \(decisiveAgreements)/\(decisiveSteps), greedy mismatches \(greedyMismatches)"
    }
}

func measureParity(modelPath: String, reference: Reference, threads: Int) throws -> ParityReport {
    let model = try Model(path: modelPath)
    let session = model.makeSession(contextLength: 512, threads: threads)
    var report = ParityReport()
    for (caseIndex, entry) in reference.greedy.enumerated() {
        // Teacher-forced: the distribution at each generated position.
        let tokens = entry.prompt_ids + entry.generated_ids
        let firstStep = entry.prompt_ids.count - 1
        try session.score(tokens) { position, logprobs in
            let step = position - firstStep
            guard step >= 0, step < entry.steps.count else { return }
            let ref = entry.steps[step]
            for alt in ref.top where alt.logprob > -10 {
                report.differences.append(abs(logprobs[Int(alt.id)] - alt.logprob))
            }
            if ref.top.count >= 2, ref.top[0].logprob - ref.top[1].logprob >= 0.1 {
                report.decisiveSteps += 1
                let ours = logprobs.indices.max { logprobs[$0] < logprobs[$1] }!
                if ours == Int(ref.top[0].id) { report.decisiveAgreements += 1 }
            }
        }
        // Free-running greedy: identical up to the first step whose reference gap is below 0.5 nats.
        var parameters = GenerationParameters()
        parameters.maxTokens = entry.generated_ids.count
        parameters.sampling = .greedy
        let result = try session.generate(prompt: entry.prompt_ids, parameters: parameters)
        for (i, step) in entry.steps.enumerated() {
            if step.top.count >= 2, step.top[0].logprob - step.top[1].logprob < 0.5 { break }
            if i >= result.tokens.count || result.tokens[i] != entry.generated_ids[i] {
                report.greedyMismatches.append("case \(caseIndex) step \(i)")
                break
            }
        }
    }
    return report
}

@Suite(.serialized) struct ReferenceParityTests {
    @Test func smolLM2MatchesLlamaCpp() throws {
        let report = try measureParity(modelPath: TestModels.smolLM2, reference: try .load("reference-smollm2.json"),
                                       threads: 2)
        print("SmolLM2 parity: \(report)")
        #expect(report.mean <= 0.2, "\(report)")
        #expect(report.p95 <= 0.6, "\(report)")
        #expect(report.agreement >= 0.95, "\(report)")
        #expect(report.greedyMismatches.isEmpty, "\(report)")
    }

    @Test func gemma3MatchesLlamaCpp() throws {
        let report = try measureParity(modelPath: TestModels.gemma3, reference: try .load("reference-gemma3.json"),
                                       threads: 2)
        print("Gemma-3 parity: \(report)")
        #expect(report.mean <= 0.2, "\(report)")
        #expect(report.p95 <= 0.6, "\(report)")
        #expect(report.agreement >= 0.95, "\(report)")
        #expect(report.greedyMismatches.isEmpty, "\(report)")
    }
}
