import Foundation
import ParleyCredits
import ParleyStore
import Testing

/// The ledger on both backends: balances derived from balanced entries, exact under concurrency, never below
/// zero, idempotent per request key.
@Suite struct LedgerTests {
    /// 200 metered requests at once against 50 credits: each holds 1 credit and is charged 0.5 to 1. The charges
    /// add up to the consumed balance exactly, the refused requests cost nothing, nothing stays held, and a
    /// watcher reading balances throughout never sees the available balance below zero.
    @Test(arguments: Backend.available) func concurrentMeteringIsExact(_ backend: Backend) async throws {
        let org = try await Org.make(backend)
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena")
        let area = try await org.area("core LLM")
        let project = try await org.project("bursty", in: area, lead: lead)
        let request = try await org.service.submitRequest(projectID: project.id, amount: credits(50), justification: "x", by: lead)
        _ = try await org.service.decide(requestID: request.id, decision: .approve, amount: nil, reason: nil, by: org.admin)

        let watching = Watch()
        let watcher = Task {
            while !Task.isCancelled {
                let b = try await org.service.ledger.balance(projectID: project.id)
                await watching.saw(b)
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        let outcomes = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for i in 0..<200 {
                group.addTask {
                    do {
                        // 1 credit held: 500 prompt + 500 completion tokens at 1 credit per 1k.
                        let meter = try await org.service.openMeter(projectID: project.id, idempotencyKey: "req-\(i)", model: "m",
                                                                    promptTokens: 500, maxCompletionTokens: 500)
                        return try await meter.settle(promptTokens: 500, completionTokens: i % 501)
                    } catch CreditsError.insufficient(_, let available, let needed) {
                        #expect(needed == credits(1) && available < needed)
                        return nil
                    }
                }
            }
            var all: [Int64?] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        watcher.cancel()
        _ = await watcher.result

        let charged = outcomes.compactMap { $0 }
        let refused = outcomes.count - charged.count
        let balance = try await org.service.ledger.balance(projectID: project.id)
        #expect(charged.count >= 50 && refused > 0, "\(charged.count) charged, \(refused) refused")
        #expect(balance.used == charged.reduce(0, +))
        #expect(balance.held == 0)
        #expect(balance.granted == credits(50))
        #expect(balance.remaining == balance.granted - balance.used)
        #expect(balance.remaining >= 0)
        #expect(await watching.lowest >= 0)
        #expect(await watching.count > 0)
    }

    @Test(arguments: Backend.available) func aRetryWithTheSameKeyIsChargedOnce(_ backend: Backend) async throws {
        let org = try await Org.make(backend)
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena")
        let project = try await org.project("retry", in: try await org.area("video"), lead: lead)
        let request = try await org.service.submitRequest(projectID: project.id, amount: credits(10), justification: "x", by: lead)
        _ = try await org.service.decide(requestID: request.id, decision: .approve, amount: nil, reason: nil, by: org.admin)

        let first = try await org.service.openMeter(projectID: project.id, idempotencyKey: "same", model: "m", promptTokens: 1000,
                                                    maxCompletionTokens: 1000)
        #expect(!first.isRetry && first.held == credits(2))
        #expect(try await first.settle(promptTokens: 1000, completionTokens: 500) == 1_500_000)
        #expect(try await first.settle(promptTokens: 1000, completionTokens: 500) == 0)  // settling twice changes nothing

        let retry = try await org.service.openMeter(projectID: project.id, idempotencyKey: "same", model: "m", promptTokens: 1000,
                                                    maxCompletionTokens: 1000)
        #expect(retry.isRetry)
        #expect(try await retry.settle(promptTokens: 1000, completionTokens: 1000) == 0)
        let balance = try await org.service.ledger.balance(projectID: project.id)
        #expect(balance.used == 1_500_000 && balance.remaining == credits(10) - 1_500_000 && balance.held == 0)

        // Concurrent retries of one key: one hold, one charge.
        let charges = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let meter = try await org.service.openMeter(projectID: project.id, idempotencyKey: "burst", model: "m",
                                                                promptTokens: 1000, maxCompletionTokens: 0)
                    return try await meter.settle(promptTokens: 1000, completionTokens: 0)
                }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(charges.filter { $0 > 0 } == [credits(1)])
        #expect(try await org.service.ledger.balance(projectID: project.id).used == 2_500_000)
    }

    @Test(arguments: Backend.available) func unbalancedTransactionsAreRefused(_ backend: Backend) async throws {
        let org = try await Org.make(backend)
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena")
        let project = try await org.project("p", in: try await org.area("a"), lead: lead)
        let unbalanced = LedgerTransaction(projectID: project.id, kind: .adjust,
                                           entries: [LedgerEntry(.available(project.id), credits(5))])
        do {
            _ = try await org.db.store.post(unbalanced, mustStayNonNegative: [])
            Issue.record("an unbalanced transaction was posted")
        } catch let e as StoreError {
            #expect(e == .invalid("a ledger transaction's entries must sum to zero, not 5000000"))
        }
        #expect(try await org.service.ledger.balance(projectID: project.id) == ProjectBalance(balances: [:], projectID: project.id))
    }
}

actor Watch {
    var lowest = Int64.max
    var count = 0
    func saw(_ b: ProjectBalance) {
        lowest = min(lowest, b.remaining, b.held)
        count += 1
    }
}
