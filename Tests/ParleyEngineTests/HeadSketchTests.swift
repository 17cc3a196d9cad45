import ParleyEngine
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// Candidate logits (the 4-bit head sketch ranks the vocabulary, the best candidates are rescored with the real
/// head) must give exactly the real logits of those candidates, and therefore the same greedy tokens.
@Suite(.serialized) struct HeadSketchTests {
    static let text = "The quick brown fox jumps over the lazy dog. 北京是中国的首都。 def quicksort(arr): return sorted(arr) "
        + "Emoji 🍕 and whitespace\t\t runs. Once upon a time, in a land far away, there lived a"

    /// Teacher-forced over a text: every position scored once with candidates and once exactly.
    func checkCandidates(_ path: String, needed: Int) throws {
        let model = try Model(path: path)
        let vocab = model.hyperparameters.vocabularySize
        let tokens = Array(model.tokenizer.encode(Self.text, addSpecial: true, parseSpecial: false))
        let pool = model.makeKVPool(blocks: 2 * ((tokens.count + 15) / 16) + 2)
        let ws = model.makeWorkspace(threads: 2, maxBatch: 64, maxLogitRows: 64, maxSequenceLength: 256)
        func logits(_ candidates: Int) throws -> [[Float]] {
            let seq = SequenceCache(pool: pool, capacity: 256)
            let batch = tokens.enumerated().map {
                BatchEntry(token: $1, position: $0, sequence: seq, wantsLogits: true, candidatesNeeded: candidates)
            }
            var rows: [[Float]] = []
            for start in stride(from: 0, to: batch.count, by: 64) {
                let chunk = Array(batch[start..<min(start + 64, batch.count)])
                try model.run(chunk, workspace: ws)
                for r in 0..<chunk.count { rows.append(Array(UnsafeBufferPointer(start: ws.logits + r * vocab, count: vocab))) }
            }
            return rows
        }
        let exact = try logits(0), sketched = try logits(needed)
        #expect(tokens.count > 40)
        for (position, (e, s)) in zip(exact, sketched).enumerated() {
            let finite = s.indices.filter { s[$0].isFinite }
            #expect(finite.count >= 64, "position \(position): only \(finite.count) candidates")
            // Candidates carry the real head's values, bit for bit.
            #expect(finite.allSatisfy { s[$0] == e[$0] }, "position \(position): a candidate differs from the exact logit")
            // The exact top `needed` are all among the candidates.
            let best = e.indices.sorted { e[$0] > e[$1] }.prefix(needed)
            #expect(best.allSatisfy { s[$0].isFinite }, "position \(position): an exact top-\(needed) token is no candidate")
        }
    }

    /// The sketch is built where the head is most of a token's bytes (Gemma-3: 70 %), not on SmolLM2 (31 %).
    @Test func sketchIsBuiltWhereItPays() throws {
        #expect(try Model(path: TestModels.gemma3).headSketchFallbacks != nil)
        #expect(try Model(path: TestModels.smolLM2).headSketchFallbacks == nil)
    }

    @Test func gemma3GreedyCandidatesAreExact() throws { try checkCandidates(TestModels.gemma3, needed: 1) }
    /// A wider request (the engine's own sampler asks only for greedy picks) is still exact or falls back.
    @Test func gemma3TopKCandidatesAreExact() throws { try checkCandidates(TestModels.gemma3, needed: 40) }

    /// Greedy generation with candidate logits equals generation over the exact distribution (asking for
    /// logprobs forces the exact head).
    @Test func greedyGenerationIsUnchanged() throws {
        for path in [TestModels.smolLM2, TestModels.gemma3] {
            let model = try Model(path: path)
            for prompt in ["Write a haiku about the sea.", "1, 2, 3, 4,", "Translate to French: good morning"] {
                let rendered = try model.renderChat([ChatMessage(role: "user", content: prompt)])
                let ids = model.tokenizer.encode(rendered, addSpecial: true, parseSpecial: true)
                var fast = GenerationParameters()
                fast.maxTokens = 48
                fast.sampling.temperature = 0
                var exact = fast
                exact.logprobs = true
                #expect(fast.candidatesNeeded == 1 && exact.candidatesNeeded == 0)
                let a = try model.makeSession(contextLength: 512).generate(prompt: ids, parameters: fast)
                let b = try model.makeSession(contextLength: 512).generate(prompt: ids, parameters: exact)
                #expect(a.tokens == b.tokens, "\(path): \(prompt)")
            }
        }
    }
}
