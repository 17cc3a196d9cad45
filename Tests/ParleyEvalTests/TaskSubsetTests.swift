import Foundation
import ParleyEval
import ParleyTestSupport
import Testing

/// The datasets, pulled once per test process (pip and the cache make later pulls cheap).
enum PulledDatasets {
    static let result: Result<DatasetStore, Error> = Result {
        let pull = try parley(["eval", "pull"])
        guard pull.status == 0 else { throw EvalError("parley eval pull failed: \(pull.stderr)") }
        return DatasetStore()
    }

    static func store() throws -> DatasetStore { try result.get() }
}

struct ContractOutput: Decodable, Equatable {
    let task: String
    let metric: String
    let value: Double
    let n: Int
}

func temporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appending(path: "parley-eval-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A few items of every task on SmolLM2 through the CLI contract, and the datasets behind them.
@Suite(.serialized) struct TaskSubsetTests {
    @Test func everyDatasetReadsCompletely() throws {
        let store = try PulledDatasets.store()
        for file in DatasetCatalog.files {
            let rows = try store.rows(file)
            #expect(rows.count == file.rows, "\(file.id)")
        }
        let arc = try store.rows(DatasetCatalog.file("arc_easy")!)
        #expect(arc[0].at("id")?.text == "MCAS_2000_4_6")
        #expect(arc[1].at("id")?.text == "Mercury_7057260")
        #expect(arc[0].at("choices.label")?.strings?.isEmpty == false)
        let hellaswag = try store.rows(DatasetCatalog.file("hellaswag")!)
        #expect(hellaswag[0].at("ctx_a")?.text == "A man is sitting on a roof.")
        #expect(hellaswag[0].at("endings")?.strings?.count == 4)
    }

    @Test(arguments: [("arc_easy", "acc_norm"), ("arc_challenge", "acc_norm"), ("hellaswag", "acc_norm"),
                      ("piqa", "acc_norm"), ("winogrande", "acc"), ("humaneval", "pass@1"), ("humaneval_bpb", "bits_per_byte"),
                      ("gsm8k", "exact_match"), ("mbpp", "pass@1"), ("ifeval", "prompt_level_strict_acc")])
    func subsetOnSmolLM2(task: String, metric: String) throws {
        _ = try PulledDatasets.store()
        let runs = try temporaryDirectory(task)
        defer { try? FileManager.default.removeItem(at: runs) }
        let limit = ["humaneval", "gsm8k", "mbpp", "ifeval"].contains(task) ? 2 : 4
        let result = try parley(["eval", "run", "-m", TestModels.smolLM2, "--task", task, "--limit", String(limit),
                                 "--json", "-t", "2", "--runs", runs.path])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(ContractOutput.self, from: Data(result.stdout.utf8))
        #expect(output.task == task && output.metric == metric && output.n == limit)
        let keys = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(Set(keys?.keys ?? [:].keys) == ["task", "metric", "value", "n"])
        if metric == "bits_per_byte" {
            #expect(output.value > 0.05 && output.value < 8)
        } else {
            #expect(output.value >= 0 && output.value <= 100)
            // Values are percentages of whole items.
            #expect(abs(output.value * Double(limit) / 100 - (output.value * Double(limit) / 100).rounded()) < 1e-9)
        }
        #expect(result.stderr.contains("ETA"))
    }

    /// The program template, the tests and the sandbox agree: HumanEval's and MBPP's reference solutions pass,
    /// an empty completion fails.
    @Test func referenceSolutionsPassInTheSandbox() throws {
        let store = try PulledDatasets.store()
        for (taskName, solutionField) in [("humaneval", "canonical_solution"), ("mbpp", "code")] {
            let task = try TaskRegistry.task(named: taskName)
            let rows = Array(try store.rows(DatasetCatalog.file(task.dataset)!).prefix(3))
            for item in try task.generationItems(rows) {
                let solution = try #require(item.row.at(solutionField)?.text)
                let program = try TextTemplate.render(try #require(item.programTemplate), row: item.row, extra: ["completion": solution])
                let result = try Sandbox.runPython(program)
                #expect(result.passed, "\(taskName) \(item.index): \(result.stderr)")
                let empty = try TextTemplate.render(item.programTemplate!, row: item.row, extra: ["completion": "    pass\n"])
                #expect(!(try Sandbox.runPython(empty)).passed, "\(taskName) \(item.index)")
            }
        }
    }

    @Test func runsResumeFromTheirLog() throws {
        _ = try PulledDatasets.store()
        let runs = try temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: runs) }
        let arguments = ["eval", "run", "-m", TestModels.smolLM2, "--task", "piqa", "--json", "-t", "2", "--runs", runs.path]
        let first = try parley(arguments + ["--limit", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        let log = try #require(try FileManager.default.contentsOfDirectory(at: runs, includingPropertiesForKeys: nil)
            .first { $0.pathExtension == "jsonl" })
        let firstLines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(firstLines.count == 3)  // identity + 2 items
        // An interrupted write leaves half a line; the next run drops it and scores the rest.
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"index":2,"sco"#.utf8))
        try handle.close()
        let second = try parley(arguments + ["--limit", "4"])
        #expect(second.status == 0, "\(second.stderr)")
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5)
        #expect(Array(lines.prefix(3)) == Array(firstLines))
        let output = try JSONDecoder().decode(ContractOutput.self, from: Data(second.stdout.utf8))
        #expect(output.n == 4)
        // Resuming scored only the two new items.
        #expect(second.stderr.contains("4/4"))

        // The report reads the summaries.
        let report = runs.appending(path: "report.html")
        let written = try parley(["eval", "report", "--runs", runs.path, "-o", report.path])
        #expect(written.status == 0, "\(written.stderr)")
        let html = try String(contentsOf: report, encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("piqa") && html.contains("66.3"))
        #expect(html.contains("Leaderboard"))
    }

    @Test func unknownTaskAndModelFailClearly() throws {
        let task = try parley(["eval", "run", "-m", TestModels.smolLM2, "--task", "nope", "--json"])
        #expect(task.status != 0)
        #expect(task.stderr.contains("unknown task 'nope'"))
        let limit = try parley(["eval", "run", "-m", TestModels.smolLM2, "--task", "piqa", "--limit", "0"])
        #expect(limit.status != 0)
        #expect(limit.stderr.contains("--limit"))
    }
}
