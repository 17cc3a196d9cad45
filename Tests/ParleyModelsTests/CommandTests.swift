import Foundation
import ParleyTestSupport
import Testing

/// `parley pull/models/show/rm` and store names in `-m`, through the built binary with its own PARLEY_HOME.
@Suite(.serialized) struct CommandTests {
    @Test func pullListShowRunRemove() throws {
        let home = try Scratch("cli")
        defer { home.cleanup() }
        let env = ["PARLEY_HOME": home.path]

        let empty = try parley(["models"], environment: env)
        #expect(empty.status == 0 && empty.stdout.contains("no models"), "\(empty.stderr)")

        let pull = try parley(["pull", TestModels.smolLM2, "--name", "smollm2"], environment: env)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout.contains("smollm2: installed 98.4 MB"), "\(pull.stdout)")
        // Not a terminal: progress comes as plain lines on stderr, ending at 100%.
        #expect(pull.stderr.contains("100%"), "\(pull.stderr)")
        #expect(!pull.stderr.contains("\r"))

        let again = try parley(["pull", TestModels.smolLM2, "--name", "smollm2"], environment: env)
        #expect(again.status == 0 && again.stdout.contains("already installed"), "\(again.stdout)")

        let models = try parley(["models"], environment: env)
        #expect(models.status == 0)
        let lines = models.stdout.split(separator: "\n")
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true).prefix(5) == ["NAME", "SIZE", "ARCHITECTURE", "PARAMETERS", "QUANTIZATION"])
        #expect(lines.count == 2 && lines[1].hasPrefix("smollm2  ") && lines[1].contains("98.4 MB") && lines[1].contains("llama")
                && lines[1].contains("Q4_1"), "\(models.stdout)")

        let show = try parley(["show", "smollm2"], environment: env)
        #expect(show.status == 0, "\(show.stderr)")
        for fact in ["architecture", "llama", "parameters", "134.5M", "quantization", "Q4_1", "context length", "8192",
                     "sha256", "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", "Tensor types",
                     "Q8_0", "Metadata", "tokenizer.ggml.tokens", "Template", "im_start", "License"] {
            #expect(show.stdout.contains(fact), "show lacks \(fact)")
        }
        let template = try parley(["show", "smollm2", "--template"], environment: env)
        #expect(template.stdout.contains("<|im_start|>"))

        // A store name works wherever -m does, and -m defaults to the default model.
        let run = try parley(["run", "-m", "smollm2", "--temperature", "0", "--max-tokens", "6", "Hello"], environment: env)
        #expect(run.status == 0 && !run.stdout.isEmpty, "\(run.stderr)")
        let byDefault = try parley(["tokenize", "Hello"], environment: env)
        #expect(byDefault.status == 0 && byDefault.stdout.hasPrefix("["), "\(byDefault.stderr)")

        let missing = try parley(["run", "-m", "not-installed", "hi"], environment: env)
        #expect(missing.exited && missing.status != 0)
        #expect(missing.stderr.contains("no model named 'not-installed'"), "\(missing.stderr)")

        let rm = try parley(["rm", "smollm2"], environment: env)
        #expect(rm.status == 0 && rm.stdout.contains("removed smollm2"))
        #expect(try parley(["models"], environment: env).stdout.contains("no models"))
        let rmAgain = try parley(["rm", "smollm2"], environment: env)
        #expect(rmAgain.exited && rmAgain.status != 0)
    }

    @Test func twoProcessesPullingTheSameModelDoNotCollide() throws {
        let home = try Scratch("cli-race")
        defer { home.cleanup() }
        let env = ["PARLEY_HOME": home.path]
        var results: [CLIResult?] = [nil, nil]
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let r = try? parley(["pull", TestModels.smolLM2, "--name", "same"], environment: env)
            lock.lock()
            results[i] = r
            lock.unlock()
        }
        let outputs = results.compactMap { $0 }
        #expect(outputs.count == 2)
        #expect(outputs.allSatisfy { $0.status == 0 }, "\(outputs.map(\.stderr))")
        #expect(outputs.filter { $0.stdout.contains("installed 98.4 MB") }.count == 1, "\(outputs.map(\.stdout))")
        #expect(outputs.filter { $0.stdout.contains("already installed") }.count == 1)
        let listed = try parley(["models", "--json"], environment: env)
        #expect(listed.stdout.contains("\"sha256\" : \"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\""))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home.url.appendingPathComponent("tmp").path)
        #expect(leftovers.isEmpty)
    }
}
