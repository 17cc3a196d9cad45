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

    struct Admission: AdmissionPolicy {
        let fairShare: FairShare
        func priority(of key: String?) -> Double { fairShare.priority(projectID: key) }
    }

    /// One slot, a heavy project with seven requests queued before a light project's one. First come, first served
    /// would start the light request last; by fair share it starts as soon as the slot frees.
    @Test func aHeavyProjectCannotStarveALightOne() async throws {
        let model = try Model(path: TestModels.smolLM2)
        let fair = FairShare()
        fair.setGranted(["heavy": credits(50), "light": credits(50)])
        fair.record(projectID: "heavy", usage: credits(40))  // heavy has been busy

        func startOrder(admission: (any AdmissionPolicy)?) async throws -> [String] {
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
            // All queued before the first step can admit more than one.
            let handles = try keys.map { try scheduler.submit(SchedulerRequest(prompt: prompt, parameters: parameters, admissionKey: $0)) }
            let order = StartOrder()
            await withTaskGroup(of: Void.self) { group in
                for (key, handle) in zip(keys, handles) {
                    group.addTask {
                        for await event in handle.events { if case .started = event { await order.add(key) } }
                    }
                }
            }
            return await order.keys
        }

        let fifo = try await startOrder(admission: nil)
        #expect(fifo.last == "light")
        let fairOrder = try await startOrder(admission: Admission(fairShare: fair))
        // The first heavy request may already hold the slot; the light one is next.
        #expect(fairOrder.firstIndex(of: "light")! <= 1, "light started at \(fairOrder)")
    }
}

actor StartOrder {
    var keys: [String] = []
    func add(_ key: String) { keys.append(key) }
}
