import Foundation
import ParleyEngine
import ParleyTokenizer
import Testing

@Suite struct SamplerTests {
    /// Logits whose softmax is known: token i has logit log(p_i).
    func logits(_ probabilities: [Float]) -> [Float] { probabilities.map { Foundation.log($0) } }

    func draw(_ parameters: SamplingParameters, _ values: [Float], times: Int) -> [TokenID: Int] {
        var sampler = Sampler(parameters)
        var counts: [TokenID: Int] = [:]
        for _ in 0..<times {
            var copy = values
            let token = copy.withUnsafeMutableBufferPointer { sampler.sample($0.baseAddress!, vocabularySize: $0.count) }
            counts[token, default: 0] += 1
        }
        return counts
    }

    @Test func greedyTakesTheArgmax() {
        var sampler = Sampler(.greedy)
        var values: [Float] = [0.1, 3, -2, 2.9]
        #expect(values.withUnsafeMutableBufferPointer { sampler.sample($0.baseAddress!, vocabularySize: 4) } == 1)
    }

    @Test func sameSeedSameDraws() {
        var p = SamplingParameters()
        p.temperature = 1
        p.topK = 0
        p.topP = 1
        p.minP = 0
        p.seed = 99
        let values = logits([0.2, 0.2, 0.2, 0.2, 0.2])
        func sequence() -> [TokenID] {
            var s = Sampler(p)
            return (0..<50).map { _ in
                var copy = values
                return copy.withUnsafeMutableBufferPointer { s.sample($0.baseAddress!, vocabularySize: 5) }
            }
        }
        let first = sequence()
        #expect(first == sequence())
        p.seed = 100
        var other = Sampler(p)
        let different = (0..<50).map { _ in
            var copy = values
            return copy.withUnsafeMutableBufferPointer { other.sample($0.baseAddress!, vocabularySize: 5) }
        }
        #expect(different != first)
    }

    @Test func temperatureOneFollowsTheDistribution() {
        var p = SamplingParameters()
        p.temperature = 1
        p.topK = 0
        p.topP = 1
        p.minP = 0
        p.seed = 7
        let counts = draw(p, logits([0.5, 0.3, 0.2]), times: 20_000)
        #expect(abs(Double(counts[0, default: 0]) / 20_000 - 0.5) < 0.02)
        #expect(abs(Double(counts[1, default: 0]) / 20_000 - 0.3) < 0.02)
        #expect(abs(Double(counts[2, default: 0]) / 20_000 - 0.2) < 0.02)
    }

    @Test func topKTopPAndMinPCutTheTail() {
        var p = SamplingParameters()
        p.temperature = 1
        p.seed = 3
        p.topP = 1
        p.minP = 0
        p.topK = 2
        #expect(Set(draw(p, logits([0.4, 0.3, 0.2, 0.1]), times: 2000).keys) == [0, 1])
        p.topK = 0
        p.topP = 0.65  // 0.4 + 0.3 reaches 0.65 at the second token
        #expect(Set(draw(p, logits([0.4, 0.3, 0.2, 0.1]), times: 2000).keys) == [0, 1])
        p.topP = 1
        p.minP = 0.6  // keeps p ≥ 0.6 · 0.4 = 0.24
        #expect(Set(draw(p, logits([0.4, 0.3, 0.2, 0.1]), times: 2000).keys) == [0, 1])
    }

    @Test func penaltiesDiscourageSeenTokens() {
        var p = SamplingParameters.greedy
        p.frequencyPenalty = 1
        var sampler = Sampler(p)
        sampler.accept(0)
        sampler.accept(0)
        var values: [Float] = [2.5, 1, 0]
        // 2.5 − 2·1 = 0.5 < 1: token 1 wins.
        #expect(values.withUnsafeMutableBufferPointer { sampler.sample($0.baseAddress!, vocabularySize: 3) } == 1)

        var q = SamplingParameters.greedy
        q.repetitionPenalty = 2
        var repeat_ = Sampler(q)
        repeat_.accept(0)
        var more: [Float] = [1.5, 1, 0]
        #expect(more.withUnsafeMutableBufferPointer { repeat_.sample($0.baseAddress!, vocabularySize: 3) } == 1)
    }

    @Test func topEntriesAreSortedBest() {
        let values: [Float] = [-3, -1, -2, -0.5, -4]
        let top = values.withUnsafeBufferPointer { topEntries($0.baseAddress!, count: 5, k: 3) }
        #expect(top.map(\.id) == [3, 1, 2])
        #expect(top.map(\.logprob) == [-0.5, -1, -2])
    }
}

@Suite struct StopStringTests {
    @Test func stopsBeforeTheStringAndHoldsBackPartialMatches() {
        var m = StopStringMatcher(["</end>", "STOP"])
        var out = ""
        var r = m.append("Hello </e")
        out += r.emit
        #expect(out == "Hello " && !r.stopped)
        r = m.append("nd> more")
        out += r.emit
        #expect(r.stopped && out == "Hello ")
    }

    @Test func aFalseAlarmIsReleased() {
        var m = StopStringMatcher(["STOP"])
        var r = m.append("ST")
        #expect(r.emit == "" && !r.stopped)
        r = m.append("AR")
        #expect(r.emit == "STAR" && !r.stopped)
        #expect(m.flush() == "")
    }

    @Test func noStopsPassesEverythingThrough() {
        var m = StopStringMatcher([])
        #expect(m.append("abc").emit == "abc")
    }
}

@Suite struct WorkerPoolTests {
    @Test func everyThreadRunsAndEveryIndexIsCoveredOnce() {
        let pool = WorkerPool(threads: 3)
        for size in [0, 1, 2, 7, 1000] {
            var hits = [Int](repeating: 0, count: size)
            hits.withUnsafeMutableBufferPointer { buffer in
                pool.parallelFor(size) { range in for i in range { buffer[i] += 1 } }
            }
            #expect(hits.allSatisfy { $0 == 1 })
        }
        // Every chunk runs exactly once, on a valid thread index, across many consecutive jobs.
        for job in 0..<200 {
            let chunks = 1 + job % 37
            var runs = [Int](repeating: 0, count: chunks)
            var threadsOK = true
            runs.withUnsafeMutableBufferPointer { buffer in
                pool.run(chunks: chunks) { chunk, thread in
                    buffer[chunk] += 1
                    if !(0..<3).contains(thread) { threadsOK = false }
                }
            }
            #expect(runs.allSatisfy { $0 == 1 } && threadsOK)
        }
    }

    /// More threads than cores, so workers are descheduled mid-claim, and chunk counts that alternate between
    /// jobs: a worker that slept through a whole job must never claim a chunk of the next one under the old
    /// job's generation (it did once, pairing the old generation with the new job's chunk count).
    @Test func oversubscribedPoolsRunEveryChunkOnceAcrossAlternatingJobs() {
        let pool = WorkerPool(threads: 6)
        var counts = [Int32](repeating: 0, count: 64)
        var bad = 0
        for job in 0..<100_000 {
            let chunks = job % 2 == 0 ? 2 : 64
            counts.withUnsafeMutableBufferPointer { buffer in
                for i in 0..<chunks { buffer[i] = 0 }
                pool.run(chunks: chunks) { chunk, _ in
                    if chunk < buffer.count { buffer[chunk] += 1 }  // a stray index is counted as wrong below
                }
                for i in 0..<chunks where buffer[i] != 1 { bad += 1 }
            }
        }
        #expect(bad == 0)
    }

    @Test func jobsWithMoreChunksThanOneTicketRunInParts() {
        let pool = WorkerPool(threads: 2)
        let chunks = WorkerPool.maxChunks * 2 + 5
        var runs = [UInt8](repeating: 0, count: chunks)
        runs.withUnsafeMutableBufferPointer { buffer in
            pool.run(chunks: chunks) { chunk, _ in buffer[chunk] &+= 1 }
        }
        #expect(runs.allSatisfy { $0 == 1 })
    }
}
