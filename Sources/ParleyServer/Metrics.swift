import Foundation
import ParleyEngine

/// Counters and histograms for `/metrics`, written in the Prometheus text format.
public final class ServerMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [String: Int] = [:]  // "endpoint|status"
    private var promptTokens = 0
    private var completionTokens = 0
    private var ttft = Histogram(bounds: [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8])
    private var interToken = Histogram(bounds: [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28])

    public init() {}

    struct Histogram {
        let bounds: [Double]
        var counts: [Int]
        var sum = 0.0
        var total = 0
        init(bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }
        mutating func observe(_ v: Double) {
            for (i, b) in bounds.enumerated() where v <= b { counts[i] += 1 }
            sum += v
            total += 1
        }
        func render(_ name: String, _ help: String, into out: inout String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            for (i, b) in bounds.enumerated() { out += "\(name)_bucket{le=\"\(b)\"} \(counts[i])\n" }
            out += "\(name)_bucket{le=\"+Inf\"} \(total)\n\(name)_sum \(sum)\n\(name)_count \(total)\n"
        }
    }

    func countRequest(path: String, status: Int) {
        // Bounded label set: known endpoints, everything else as "other".
        let known = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/moderations", "/v1/models", "/health", "/metrics"]
        let endpoint = known.first { path == $0 } ?? (path.hasPrefix("/v1/models/") ? "/v1/models/{id}" : "other")
        lock.withLock { requests["\(endpoint)|\(status)", default: 0] += 1 }
    }

    func countTokens(prompt: Int, completion: Int) {
        lock.withLock {
            promptTokens += prompt
            completionTokens += completion
        }
    }

    func observeTimeToFirstToken(_ seconds: Double) { lock.withLock { ttft.observe(seconds) } }
    func observeInterToken(_ seconds: Double) { lock.withLock { interToken.observe(seconds) } }

    func render(schedulers: [(String, SchedulerStats)]) -> String {
        var out = ""
        lock.withLock {
            out += "# HELP parley_requests_total HTTP requests by endpoint and status.\n# TYPE parley_requests_total counter\n"
            for key in requests.keys.sorted() {
                let parts = key.split(separator: "|", maxSplits: 1)
                out += "parley_requests_total{endpoint=\"\(parts[0])\",status=\"\(parts[1])\"} \(requests[key]!)\n"
            }
            out += "# HELP parley_prompt_tokens_total Prompt tokens processed.\n# TYPE parley_prompt_tokens_total counter\n"
            out += "parley_prompt_tokens_total \(promptTokens)\n"
            out += "# HELP parley_completion_tokens_total Tokens generated.\n# TYPE parley_completion_tokens_total counter\n"
            out += "parley_completion_tokens_total \(completionTokens)\n"
            ttft.render("parley_time_to_first_token_seconds", "Time from request to first generated token.", into: &out)
            interToken.render("parley_inter_token_latency_seconds", "Time between consecutive generated tokens of a stream.", into: &out)
        }
        func gauge(_ name: String, _ help: String, _ value: (SchedulerStats) -> Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (model, s) in schedulers { out += "\(name){model=\"\(model)\"} \(value(s))\n" }
        }
        gauge("parley_queue_depth", "Requests waiting for a sequence slot.") { $0.waiting }
        gauge("parley_active_sequences", "Sequences being prefilled or generating.") { $0.active }
        gauge("parley_kv_cache_blocks_used", "KV-cache blocks in use (16 positions each).") { $0.kvBlocksUsed }
        gauge("parley_kv_cache_blocks_total", "KV-cache blocks in the pool.") { $0.kvBlocksTotal }
        out += "# HELP parley_prefix_cache_tokens_total Prompt tokens taken from the prefix cache.\n# TYPE parley_prefix_cache_tokens_total counter\n"
        for (model, s) in schedulers { out += "parley_prefix_cache_tokens_total{model=\"\(model)\"} \(s.promptTokensFromCache)\n" }
        out += "# HELP parley_forward_steps_total Batched forward passes.\n# TYPE parley_forward_steps_total counter\n"
        for (model, s) in schedulers { out += "parley_forward_steps_total{model=\"\(model)\"} \(s.steps)\n" }
        return out
    }
}
