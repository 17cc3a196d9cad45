import ArgumentParser
import Foundation
import ParleyWellbeing

/// `parley wellbeing …`: assess conversations for risk, evaluate on a labelled set, check a policy file.
struct Wellbeing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wellbeing",
        abstract: "Wellbeing safeguards: assess user turns for risk (English, Simplified Chinese), evaluate, check policies.",
        subcommands: [WellbeingAssess.self, WellbeingEval.self, WellbeingTrain.self, WellbeingCheckPolicy.self, WellbeingResources.self]
    )
}

struct WellbeingPolicyOption: ParsableArguments {
    @Option(name: .long, help: "A wellbeing policy JSON file (default: the policy built into the binary).")
    var policy: String?

    @Option(name: .long, help: "A risk model JSON file written by `parley wellbeing train --output` (default: the model built into the binary), to evaluate a candidate without rebuilding.")
    var model: String?

    func assessor() throws -> WellbeingAssessor {
        var risk = RiskModel.builtIn
        if let model {
            do { risk = try RiskModel.decode(Data(contentsOf: URL(fileURLWithPath: model))) } catch {
                throw CLIError("cannot read the risk model \(model): \(error)")
            }
        }
        guard let policy else { return WellbeingAssessor(model: risk) }
        do {
            let store = try PolicyStore(url: URL(fileURLWithPath: policy))
            return model == nil ? store.assessor : WellbeingAssessor(policy: store.policy, model: risk)
        } catch { throw CLIError("\(error)") }
    }
}

struct WellbeingAssess: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assess",
        abstract: "Assess the last user turn of a conversation.",
        discussion: """
        --jsonl reads one item per line on stdin, {"id": …, "messages": [{"role", "content"}, …]} (optionally
        "usage": {"hoursPerDay", "lateNightShare", "exclusivityMentions"}), and prints one line per item:
        {"id", "category", "severity", "action"}. A malformed line gets {"id", "error"} on stdout and a message on
        stderr; the run goes on. Without --jsonl, assesses TEXT as a single user turn and prints the full assessment.
        """
    )

    @Flag(name: .long, help: "Read JSONL items on stdin, write one JSON line per item.")
    var jsonl = false

    @Flag(name: .long, help: "Also print the signals that fired (names only, never text).")
    var signals = false

    @OptionGroup var policyOption: WellbeingPolicyOption

    @Argument(help: "The user turn to assess (without --jsonl).")
    var text: [String] = []

    func validate() throws {
        if jsonl && !text.isEmpty { throw ValidationError("give either --jsonl (stdin) or TEXT, not both") }
        if !jsonl && text.isEmpty { throw ValidationError("give TEXT to assess, or --jsonl to read items on stdin") }
    }

    func run() throws {
        let assessor = try policyOption.assessor()
        guard jsonl else {
            let a = assessor.assess(text: text.joined(separator: " "))
            writeOut(try jsonString(a) + "\n")
            return
        }
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            writeOut(WellbeingJSONL.assessLine(line, number: lineNumber, assessor: assessor, withSignals: signals) + "\n")
        }
    }
}

/// The JSONL contract, kept apart from argument parsing.
enum WellbeingJSONL {
    /// One output line for one input line; never throws. Errors also go to stderr.
    static func assessLine(_ line: String, number: Int, assessor: WellbeingAssessor, withSignals: Bool) -> String {
        let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        guard let object = parsed as? [String: Any] else {
            return failure(id: nil, number: number, parsed == nil ? "not valid JSON" : "not a JSON object")
        }
        let id = object["id"]
        let idJSON = encodeID(id)
        guard id != nil, idJSON != "null" else { return failure(id: nil, number: number, "missing \"id\" (a string or a number)") }
        guard let rawMessages = object["messages"] as? [Any] else { return failure(id: idJSON, number: number, "\"messages\" must be an array") }
        var messages: [ChatTurn] = []
        for (i, m) in rawMessages.enumerated() {
            guard let m = m as? [String: Any], let role = m["role"] as? String, let content = m["content"] as? String else {
                return failure(id: idJSON, number: number, "messages[\(i)] needs string \"role\" and \"content\"")
            }
            messages.append(ChatTurn(role: role, content: content))
        }
        guard messages.contains(where: { $0.role == "user" }) else {
            return failure(id: idJSON, number: number, "no user message to assess")
        }
        var usage: UsagePattern?
        if let u = object["usage"] {
            guard let u = u as? [String: Any], let hours = (u["hoursPerDay"] as? NSNumber)?.doubleValue,
                  let share = (u["lateNightShare"] as? NSNumber)?.doubleValue else {
                return failure(id: idJSON, number: number, "\"usage\" needs numbers \"hoursPerDay\" and \"lateNightShare\"")
            }
            usage = UsagePattern(hoursPerDay: hours, lateNightShare: share,
                                 exclusivityMentions: (u["exclusivityMentions"] as? NSNumber)?.intValue ?? 0)
        }
        let a = assessor.assess(messages, usage: usage)
        var out = "{\"id\":\(idJSON),\"category\":\"\(a.category.rawValue)\",\"severity\":\(a.severity),\"action\":\"\(a.action.rawValue)\""
        if withSignals {
            out += ",\"signals\":" + ((try? jsonString(a.signals)) ?? "[]")
        }
        return out + "}"
    }

    static func encodeID(_ id: Any?) -> String {
        switch id {
        case let s as String: return (try? jsonString(s)) ?? "null"
        case let n as NSNumber:
            return n.stringValue
        default: return "null"
        }
    }

    static func failure(id: String?, number: Int, _ message: String) -> String {
        FileHandle.standardError.write(Data("line \(number): \(message)\n".utf8))
        return "{\"id\":\(id ?? "null"),\"error\":\((try? jsonString("line \(number): \(message)")) ?? "\"error\"")}"
    }
}

struct WellbeingEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate on a labelled JSONL set: recall/precision per category, false positives, action accuracy, latency.",
        discussion: """
        Items: {"id", "lang", "category", "severity", "action", "messages": [...], "kind"?}. Figures are printed per
        language and overall, with the acceptance targets. Latency is timed per item on one thread after a warm-up
        pass, the fastest of three calls (a time slice lost to another process is not the assessor's).
        """
    )

    @Option(name: .long, help: "The labelled JSONL dataset.")
    var dataset: String

    @OptionGroup var policyOption: WellbeingPolicyOption

    @Flag(name: .long, help: "Print the reports as JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "List the items whose action differs from the expected one (id, expected → got, signals).")
    var misses = false

    func run() throws {
        let assessor = try policyOption.assessor()
        guard let data = FileManager.default.contents(atPath: dataset) else { throw CLIError("cannot read \(dataset)") }
        var items: [WellbeingDatasetItem] = []
        let decoder = JSONDecoder()
        var bad = 0
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do { items.append(try decoder.decode(WellbeingDatasetItem.self, from: Data(trimmed.utf8))) } catch {
                bad += 1
                FileHandle.standardError.write(Data("\(dataset):\(n + 1): skipped, \(WellbeingEvaluation.describe(error))\n".utf8))
            }
        }
        guard !items.isEmpty else { throw CLIError("no valid items in \(dataset)") }
        _ = WellbeingEvaluation.run(items, assessor: assessor)  // warm-up: first-call costs are not per-turn latency
        let results = WellbeingEvaluation.run(items, assessor: assessor)
        let reports = WellbeingEvaluation.reports(results)
        if json {
            writeOut(try jsonString(reports) + "\n")
        } else {
            writeOut(Self.text(reports, skipped: bad))
        }
        if misses {
            for r in results where r.assessment.action != r.item.action {
                writeOut("miss \(r.item.id) [\(r.item.lang)] expected \(r.item.category.rawValue)/\(r.item.action.rawValue) got \(r.assessment.category.rawValue)/\(r.assessment.action.rawValue) \(r.assessment.signals.joined(separator: ","))\n")
            }
        }
    }

    static func pct(_ x: Double) -> String { String(format: "%5.1f%%", x * 100) }

    static func text(_ reports: [WellbeingEvalReport], skipped: Int) -> String {
        var s = ""
        if skipped > 0 { s += "skipped \(skipped) malformed line(s)\n" }
        for r in reports {
            s += "== \(r.lang): \(r.items) items (\(r.riskItems) risk, \(r.nonRiskItems) non-risk)\n"
            s += "  category              support  recall  precision\n"
            for c in WellbeingCategory.allCases {
                guard let f = r.perCategory[c.rawValue] else { continue }
                s += "  " + c.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + String(format: "%8d", f.support) + "  " + pct(f.recall) + "  " + pct(f.precision) + "\n"
            }
            s += "  acute self-harm → crisis_support      \(pct(r.acuteCrisisSupportRate))\n"
            s += "  other risk → some caring action       \(pct(r.nonAcuteCaringRate))"
            s += "  (" + r.caringRateByCategory.sorted { $0.key < $1.key }.map { "\($0.key) \(pct($0.value))" }.joined(separator: ", ") + ")\n"
            s += "  risk turns → expected action          \(pct(r.actionAccuracy))\n"
            s += "  non-risk → crisis_support (FP)        \(pct(r.nonRiskCrisisRate))\n"
            s += "  non-risk → any action (FP rate)       \(pct(r.nonRiskAnyActionRate))"
            if !r.nonRiskAnyActionRateByKind.isEmpty {
                s += "  (" + r.nonRiskAnyActionRateByKind.sorted { $0.key < $1.key }.map { "\($0.key) \(pct($0.value))" }.joined(separator: ", ") + ")"
            }
            s += "\n"
            if let sev = r.severityAccuracy { s += "  severity exact                        \(pct(sev))\n" }
            s += String(format: "  latency p50 %.3f ms, p99 %.3f ms\n", r.latencyP50Ms, r.latencyP99Ms)
            s += "  targets: " + r.targets.map { "\($0.met ? "✓" : "✗") \($0.name)" }.joined(separator: "; ") + "\n"
        }
        return s
    }
}

struct WellbeingCheckPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-policy",
        abstract: "Validate a wellbeing policy file (exit 1 with the reason when it is invalid); --print-default shows the built-in one."
    )

    @Argument(help: "The policy JSON file.")
    var file: String?

    @Flag(name: .long, help: "Print the built-in default policy.")
    var printDefault = false

    func run() throws {
        if printDefault { writeOut(WellbeingPolicy.defaultJSON + "\n"); return }
        guard let file else { throw ValidationError("give a policy FILE or --print-default") }
        do {
            _ = try PolicyStore(url: URL(fileURLWithPath: file))
            writeOut("ok: \(file)\n")
        } catch {
            throw CLIError("\(error)")
        }
    }
}

struct WellbeingResources: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resources",
        abstract: "Print the crisis resource card for a locale (e.g. en-US, en-GB, zh-CN) as JSON."
    )

    @Option(name: .long, help: "The user's locale.")
    var locale: String = "en-US"

    func run() throws {
        writeOut(try jsonString(CrisisResources.builtIn.card(forLocale: locale)) + "\n")
    }
}

struct WellbeingTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the concept model on a labelled JSONL set (deterministic) and write its weights.",
        discussion: "The shipped weights come from: parley wellbeing train --dataset Tests/Fixtures/wellbeing/dev.jsonl --dataset Tests/Fixtures/wellbeing/train.jsonl --swift-output Sources/ParleyWellbeing/ModelWeights.swift"
    )

    @Option(name: .long, help: "A labelled JSONL training set (repeat to train on several).")
    var dataset: [String]

    @Option(name: .long, help: "Write the model as JSON here.")
    var output: String?

    @Option(name: .customLong("swift-output"), help: "Write the model as the Swift source that embeds it in the binary.")
    var swiftOutput: String?

    func run() throws {
        var items: [WellbeingDatasetItem] = []
        for path in dataset {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
            do { items += try WellbeingEvaluation.loadDataset(data) } catch { throw CLIError("\(path): \(error)") }
        }
        let model = RiskModelTrainer.train(items, assessor: WellbeingAssessor(model: nil))
        if let output { try model.encoded().write(to: URL(fileURLWithPath: output)) }
        if let swiftOutput { try Data(RiskModelTrainer.swiftSource(model).utf8).write(to: URL(fileURLWithPath: swiftOutput)) }
        writeOut("trained on \(items.count) items: \(model.weights.count) features, threshold \(model.threshold), \(model.notes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))\n")
    }
}
