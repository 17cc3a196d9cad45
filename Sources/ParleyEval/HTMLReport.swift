import Foundation

/// Published figures to show beside ours, with how their harness differs.
public struct PublishedFigure: Sendable {
    public var model: String
    public var task: String
    public var value: Double
    public var note: String

    /// SmolLM2-135M-Instruct's model card (HuggingFaceTB): lighteval, zero-shot, its own prompt formats; its "ARC"
    /// averages ARC-Easy and ARC-Challenge, so it stands beside both.
    public static let modelCards: [PublishedFigure] = {
        let note = "model card (HuggingFaceTB/SmolLM2-135M-Instruct): lighteval zero-shot with its own prompts and normalisation; not lm-evaluation-harness's formats, so a few points' difference is expected"
        return [
            PublishedFigure(model: "SmolLM2-135M-Instruct", task: "hellaswag", value: 40.9, note: note),
            PublishedFigure(model: "SmolLM2-135M-Instruct", task: "arc_easy", value: 37.3, note: note + "; ARC = mean of Easy and Challenge"),
            PublishedFigure(model: "SmolLM2-135M-Instruct", task: "arc_challenge", value: 37.3, note: note + "; ARC = mean of Easy and Challenge"),
            PublishedFigure(model: "SmolLM2-135M-Instruct", task: "piqa", value: 66.3, note: note),
        ]
    }()
}

/// Every run summary in a directory, and an HTML report of them: a leaderboard (models by mean headline
/// score over the tasks they ran), per task an SVG bar chart with bootstrap 95 % intervals, published
/// figures beside ours, and per run the method, harness, size and time.
public enum HTMLReport {
    public static func summaries(in directory: URL) throws -> [RunSummary] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return try files.filter { $0.lastPathComponent.hasSuffix(".summary.json") }.sorted { $0.path < $1.path }.map {
            do { return try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: $0)) } catch {
                throw EvalError("\($0.lastPathComponent) is not a run summary: \(error)")
            }
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Models ranked by the mean of their headline scores (rates only) over the tasks they ran.
    public static func leaderboard(_ runs: [RunSummary]) -> [(model: String, mean: Double, tasks: Int)] {
        let rated = runs.filter { EvalRunner.isRate($0.metric) }
        return Dictionary(grouping: rated, by: \.model).map { model, runs in
            (model: model, mean: Metrics.mean(runs.map(\.value)), tasks: runs.count)
        }.sorted { $0.mean > $1.mean }
    }

    /// One task's chart: a bar per model (and published figure) with its interval as a whisker.
    static func chart(task: String, runs: [RunSummary], published: [PublishedFigure]) -> String {
        let rowHeight = 26, labelWidth = 300, plotWidth = 380, top = 10
        let isRate = runs.allSatisfy { EvalRunner.isRate($0.metric) }
        let maxValue = isRate ? 100 : max(0.1, (runs.map { $0.metrics[$0.metric]?.high ?? $0.value }.max() ?? 1) * 1.1)
        let rows: [(label: String, value: Double, low: Double?, high: Double?, published: Bool)] =
            runs.map { run in
                let m = run.metrics[run.metric]
                return ("\(run.model) (\(run.metric), n=\(run.n))", run.value, m?.low, m?.high, false)
            } + published.map { ("\($0.model), published", $0.value, nil, nil, true) }
        let height = top * 2 + rowHeight * rows.count + 20
        func x(_ v: Double) -> Int { labelWidth + Int(Double(plotWidth) * min(max(v / maxValue, 0), 1)) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + plotWidth + 70)\" height=\"\(height)\" role=\"img\" aria-label=\"\(escape(task)) scores\">"
        for (i, row) in rows.enumerated() {
            let y = top + i * rowHeight
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 16)\" text-anchor=\"end\" font-size=\"12\">\(escape(row.label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(x(row.value) - labelWidth)\" height=\"16\" fill=\"\(row.published ? "#bbb" : "#4a7bd0")\"/>"
            if let low = row.low, let high = row.high {
                svg += "<line x1=\"\(x(low))\" x2=\"\(x(high))\" y1=\"\(y + 12)\" y2=\"\(y + 12)\" stroke=\"#111\" stroke-width=\"1.5\"/>"
                for end in [low, high] {
                    svg += "<line x1=\"\(x(end))\" x2=\"\(x(end))\" y1=\"\(y + 7)\" y2=\"\(y + 17)\" stroke=\"#111\" stroke-width=\"1.5\"/>"
                }
            }
            svg += "<text x=\"\(x(max(row.value, row.high ?? 0)) + 6)\" y=\"\(y + 16)\" font-size=\"12\">\(format(row.value))</text>"
        }
        let axisY = top + rowHeight * rows.count + 4
        svg += "<line x1=\"\(labelWidth)\" x2=\"\(labelWidth + plotWidth)\" y1=\"\(axisY)\" y2=\"\(axisY)\" stroke=\"#666\"/>"
        svg += "<text x=\"\(labelWidth)\" y=\"\(axisY + 14)\" font-size=\"10\">0</text>"
        svg += "<text x=\"\(labelWidth + plotWidth)\" y=\"\(axisY + 14)\" font-size=\"10\" text-anchor=\"end\">\(isRate ? "100 %" : format(maxValue))</text>"
        return svg + "</svg>"
    }

    public static func render(_ runs: [RunSummary], published: [PublishedFigure] = PublishedFigure.modelCards) -> String {
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Parley evaluation report</title>
            <style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
            th{background:#f3f3f3}.note{color:#555;font-size:0.9em}</style></head><body>
            <h1>Parley evaluation report</h1>
            <p class="note">Scores are percentages (bits per byte for perplexity tasks); whiskers are bootstrap 95 % intervals
            (1,000 resamples of the items). "n" is the number of items scored; a run limited to the first items of a dataset
            says so in its n.</p>
            """
        html += "<h2>Leaderboard</h2><table><tr><th>#</th><th>model</th><th>mean headline score</th><th>tasks</th></tr>"
        for (rank, entry) in leaderboard(runs).enumerated() {
            html += "<tr><td>\(rank + 1)</td><td>\(escape(entry.model))</td><td>\(format(entry.mean))</td><td>\(entry.tasks)</td></tr>"
        }
        html += "</table>"
        let byTask = Dictionary(grouping: runs, by: \.task)
        for task in byTask.keys.sorted() {
            let taskRuns = byTask[task]!.sorted { $0.value > $1.value }
            let figures = published.filter { $0.task == task }
            html += "<h2>\(escape(task))</h2>" + chart(task: task, runs: taskRuns, published: figures)
            html += "<table><tr><th>model</th><th>metric</th><th>value</th><th>95 % interval</th><th>n / rows</th><th>method</th><th>time</th></tr>"
            for run in taskRuns {
                for (name, metric) in run.metrics.sorted(by: { $0.key < $1.key }) {
                    html += "<tr><td>\(escape(run.model))</td><td>\(escape(name))\(name == run.metric ? " (headline)" : "")</td>"
                    html += "<td>\(format(metric.value))</td><td>\(format(metric.low))–\(format(metric.high))</td>"
                    html += "<td>\(run.n) / \(run.datasetRows)</td><td>\(escape(run.method))</td><td>\(ProgressReporter.format(seconds: run.seconds))</td></tr>"
                }
            }
            html += "</table>"
            if let harness = taskRuns.first?.harness { html += "<p class=\"note\">Format: \(escape(harness)).</p>" }
            for figure in figures {
                html += "<p class=\"note\">Published: \(escape(figure.model)) \(format(figure.value)) — \(escape(figure.note)).</p>"
            }
        }
        return html + "</body></html>\n"
    }
}
