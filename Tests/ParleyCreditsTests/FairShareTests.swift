import Foundation
import ParleyCredits
import ParleyEngine
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// F = 2^(−U/S), and the scheduler's admission hook ordering waiting requests by it.
@Suite struct FairShareTests {
    @Test func priorityFollowsTheFormula() {
        let clock = TestClock()
        let fair = FairShare(halfLife: 3600, clock: clock.read)
        fair.setGranted(["heavy": credits(50), "light": credits(50)])
        #expect(fair.priority(projectID: "heavy") == 1)  // no usage yet
        #expect(fair.priority(projectID: nil) == fair.unmeteredPriority)
        fair.record(projectID: "heavy", usage: credits(10))
        // heavy: U = 1, S = 1/2 → 2^-2; light used nothing → 1.
        #expect(fair.priority(projectID: "heavy") == 0.25)
        #expect(fair.priority(projectID: "light") == 1)
        fair.record(projectID: "light", usage: credits(10))
        // Each used exactly its share: 2^-1.
        #expect(fair.priority(projectID: "heavy") == 0.5)
        #expect(fair.priority(projectID: "light") == 0.5)
    }

    @Test func usageDecaysWithTheHalfLife() {
        let clock = TestClock()
        let fair = FairShare(halfLife: 3600, clock: clock.read)
        fair.setGranted(["heavy": credits(50), "light": credits(50)])
        fair.record(projectID: "heavy", usage: credits(10))
        // Two half-lives later heavy's 10 counts as 2.5 against light's fresh 10: U = 0.2 and 0.8, S = 0.5 each.
        clock.advance(7200)
        fair.record(projectID: "light", usage: credits(10))
        #expect(abs(fair.priority(projectID: "heavy") - pow(2, -0.2 / 0.5)) < 1e-9)
        #expect(abs(fair.priority(projectID: "light") - pow(2, -0.8 / 0.5)) < 1e-9)
    }

    @Test func aProjectWithoutAShareWaitsBehindThoseWithOne() {
        let fair = FairShare()
        fair.setGranted(["granted": credits(10)])
        fair.record(projectID: "granted", usage: credits(1))
        fair.record(projectID: "none", usage: credits(1))
        #expect(fair.priority(projectID: "none") == 0)
        #expect(fair.priority(projectID: "granted") > 0)
    }

    /// Ranks by `rank` and notes, on the scheduler's thread, every key it was asked about. The scheduler asks
    /// once per distinct waiting key for each request it admits, so the number of times it asked about "light" is
    /// the number of admissions made while the light request waited, its own included.
    final class RecordingAdmission: AdmissionPolicy, @unchecked Sendable {
        let rank: @Sendable (String?) -> Double
        private let lock = NSLock()
        private var asked: [String?] = []

        init(_ rank: @escaping @Sendable (String?) -> Double) { self.rank = rank }

        func priority(of key: String?) -> Double {
            lock.withLock { asked.append(key) }
            return rank(key)
        }

        func admissionsWhileWaiting(_ key: String) -> Int { lock.withLock { asked.filter { $0 == key }.count } }
    }

    /// One slot, a heavy project with seven requests queued before a light project's one. First come, first served
    /// admits the light request after all seven; by fair share it is admitted as soon as the slot frees.
    @Test func aHeavyProjectCannotStarveALightOne() async throws {
        let model = try Model(path: TestModels.smolLM2)
        let fair = FairShare()
        fair.setGranted(["heavy": credits(50), "light": credits(50)])
        fair.record(projectID: "heavy", usage: credits(40))  // heavy has been busy
        #expect(fair.priority(projectID: "light") > fair.priority(projectID: "heavy"))

        func run(_ admission: RecordingAdmission) async throws {
            var configuration = SchedulerConfiguration()
            configuration.parallel = 1
            configuration.contextLength = 256
            configuration.threads = 2
            configuration.admission = admission
            let scheduler = Scheduler(model: model, configuration: configuration)
            defer { scheduler.shutdown() }
            var parameters = GenerationParameters()
            parameters.maxTokens = 3
            parameters.stopAtEndOfGeneration = false
            let prompt = model.tokenizer.encode("The capital of France is", addSpecial: true, parseSpecial: false)
            let keys = Array(repeating: "heavy", count: 7) + ["light"]
            let handles = try keys.map { try scheduler.submit(SchedulerRequest(prompt: prompt, parameters: parameters, admissionKey: $0)) }
            await withTaskGroup(of: Void.self) { group in
                for handle in handles { group.addTask { for await _ in handle.events {} } }
            }
        }

        // Equal priorities keep arrival order: the light request waits through every heavy one.
        let fifo = RecordingAdmission { _ in 1 }
        try await run(fifo)
        #expect(fifo.admissionsWhileWaiting("light") >= 7)
        // Fair share: admitted at the first free slot.
        let fairShare = RecordingAdmission { fair.priority(projectID: $0) }
        try await run(fairShare)
        #expect(fairShare.admissionsWhileWaiting("light") == 1)
    }
}
