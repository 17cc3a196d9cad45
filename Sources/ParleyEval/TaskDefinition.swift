import Foundation

/// A task as data (`Sources/ParleyEval/Tasks/NAME.json`): which dataset, how an item becomes a prompt, what
/// the choices or the answer are, and how it is scored. Templates name dataset fields as `{path}` or
/// `{path|filter|…}` (filters: `TextFilter`); `{{` and `}}` are literal braces.
public struct TaskDefinition: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// Log-likelihood of each choice; acc and acc_norm.
        case multipleChoice = "multiple_choice"
        /// Bits per byte (and perplexities) of a text, optionally given a context.
        case perplexity
        /// Greedy generation compared with an answer: exact match, regex or numeric.
        case generation
        /// Generated code run against tests in the sandbox; pass@k.
        case codeExecution = "code_execution"
        /// A chat reply checked against verifiable instructions (IFEval); prompt- and instruction-level accuracy.
        case instructionFollowing = "instruction_following"
    }

    /// Where each choice's gold index comes from: a field (optionally mapped), or the position of a field's value
    /// in a list field.
    public struct Gold: Codable, Sendable {
        public var field: String?
        public var map: [String: Int]?
        public var indexOf: String?
        public var `in`: String?
    }

    /// The choices: a list field, or several fields, each through `filters`.
    public struct Choices: Codable, Sendable {
        public var list: String?
        public var fields: [String]?
        public var filters: [String]?
    }

    /// WinoGrande's partial scoring: the context is the sentence up to the blank with each option filled in, the
    /// continuation is the rest of the sentence (the same for every option).
    public struct PartialScoring: Codable, Sendable {
        public var sentence: String
        public var blank: String
        public var options: [String]
    }

    public var name: String
    public var dataset: String
    public var kind: Kind
    public var description: String
    /// The harness and setting this definition reproduces, e.g. "lm-evaluation-harness arc_easy, 0-shot".
    public var harness: String
    public var context: String?
    public var contextFilters: [String]?
    public var choices: Choices?
    public var gold: Gold?
    public var partialScoring: PartialScoring?
    /// Between context and continuation (lm-evaluation-harness's `target_delimiter`, default " ").
    public var targetDelimiter: String?
    /// Metrics reported; the first is the headline (`--json` prints it unless `--metric` picks another).
    public var metrics: [String]
    /// Generation and code execution: the text to score against / the program to run, as templates.
    public var answer: String?
    public var answerPattern: String?
    public var extract: String?
    public var program: String?
    public var stop: [String]?
    public var maxTokens: Int?
    public var timeoutSeconds: Double?

    public var primaryMetric: String { metrics.first ?? "acc" }
}

/// Task definitions shipped with Parley.
public enum TaskRegistry {
    public static func all() throws -> [TaskDefinition] {
        guard let directory = Bundle.module.url(forResource: "Tasks", withExtension: nil) else {
            throw EvalError("the task definitions are missing from the build")
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map { url in
            do {
                return try JSONDecoder().decode(TaskDefinition.self, from: Data(contentsOf: url))
            } catch {
                throw EvalError("task definition \(url.lastPathComponent): \(error)")
            }
        }
    }

    public static func task(named name: String) throws -> TaskDefinition {
        let tasks = try all()
        guard let task = tasks.first(where: { $0.name == name }) else {
            throw EvalError("unknown task '\(name)' (known: \(tasks.map(\.name).joined(separator: ", ")))")
        }
        return task
    }
}
