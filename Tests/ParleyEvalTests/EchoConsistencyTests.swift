import Foundation
import ParleyEngine
import ParleyEval
import ParleyTestSupport
import Testing

struct EchoOutput: Decodable {
    struct Entry: Decodable { let id: Int; let logprob: Float }
    let prompt_tokens: [Int]
    let prompt_logprobs: [Entry?]
}

/// The harness scores through the engine directly, sharing each question's prefix between its choices and
/// batching the choices together; every continuation token's log-probability must still equal what
/// `parley complete --echo` reports for the same token ids, scored one sequence at a time.
@Suite(.serialized) struct EchoConsistencyTests {
    static let question = """
        Question: A student mixes baking soda and vinegar in a sealed plastic bag and the bag puffs up. \
        Which statement best explains what the student observed in this experiment?
        Answer:
        """
    static let choices = [" A gas was produced by a chemical reaction.", " The bag was heated by the sun.",
                          " Water evaporated from the vinegar.", " The baking soda dissolved"]

    @Test(arguments: [0, 1])
    func choiceLogprobsEqualCompleteEcho(modelIndex: Int) throws {
        let path = [TestModels.smolLM2, TestModels.gemma3][modelIndex]
        let model = try Model(path: path)
        let scorer = EngineLogLikelihood(model: model, threads: 2, contextLength: 512)
        let requests = Self.choices.map { scorer.tokenize(context: Self.question, continuation: $0) }
        // The shared prefix is long enough to be adopted as cached blocks.
        #expect(requests[0].context.count > 2 * KVBlockPool.blockSize)
        let scores = try scorer.score(requests)
        for (request, score) in zip(requests, scores) {
            let ids = request.context + request.continuation
            let result = try parley(["complete", "-m", path, "--prompt-ids", ids.map(String.init).joined(separator: ","),
                                     "--max-tokens", "0", "--echo", "--json", "-t", "2"])
            #expect(result.status == 0, "\(result.stderr)")
            let echo = try JSONDecoder().decode(EchoOutput.self, from: Data(result.stdout.utf8))
            #expect(echo.prompt_tokens == ids.map(Int.init))
            let expected = echo.prompt_logprobs[request.context.count...].map { $0?.logprob ?? .nan }
            #expect(score.tokenLogprobs.count == request.continuation.count)
            #expect(score.tokenLogprobs == Array(expected), "max |Δ| \(zip(score.tokenLogprobs, expected).map { abs($0 - $1) }.max() ?? 0)")
            #expect(abs(score.logLikelihood - expected.reduce(0) { $0 + Double($1) }) < 1e-9)
        }
    }

    @Test func tokenizationFollowsTheHarness() throws {
        let model = try Model(path: TestModels.smolLM2)
        let scorer = EngineLogLikelihood(model: model, threads: 1, contextLength: 256)
        // A trailing space of the context moves to the continuation.
        let moved = scorer.tokenize(context: "The sky is ", continuation: "blue")
        let plain = scorer.tokenize(context: "The sky is", continuation: " blue")
        #expect(moved == plain)
        // Context and continuation together are the encoding of the whole text.
        let whole = model.tokenizer.encode("The sky is blue", addSpecial: true, parseSpecial: false)
        #expect(plain.context + plain.continuation == whole)
        // Items score the same alone or together with others.
        let alone = try scorer.score([plain])
        let together = try scorer.score([scorer.tokenize(context: "The sky is", continuation: " green"), plain])
        #expect(alone[0] == together[1])
    }
}
