import Foundation

/// One multiple-choice item: per choice a context and a continuation to score (the contexts are all the same
/// unless the task scores partially), the choice texts (acc_norm divides by their length in characters), and
/// the gold index. `question` and `options` serve the lettered-choice prompt of providers without logprobs.
public struct MultipleChoiceItem: Sendable, Codable, Equatable {
    public var index: Int
    public var contexts: [String]
    public var continuations: [String]
    public var choices: [String]
    public var gold: Int
    public var question: String
    public var options: [String]

    public init(index: Int, contexts: [String], continuations: [String], choices: [String], gold: Int,
                question: String, options: [String]) {
        self.index = index
        self.contexts = contexts
        self.continuations = continuations
        self.choices = choices
        self.gold = gold
        self.question = question
        self.options = options
    }
}

/// A text to score (perplexity, bits per byte), optionally after a context that is not scored.
public struct TextItem: Sendable, Equatable {
    public var index: Int
    public var context: String
    public var text: String
}

/// An IFEval prompt and its verifiable instructions.
public struct InstructionItem: Sendable, Equatable {
    public var index: Int
    public var prompt: String
    public var instructions: [IFEvalInstruction]
}

/// A prompt to continue and what the continuation is checked against: an answer (generation) or a program
/// with `{completion}` filled in (code execution).
public struct GenerationItem: Sendable, Equatable {
    public var index: Int
    public var prompt: String
    public var answer: String?
    public var programTemplate: String?
    public var row: DatasetValue
}

extension TaskDefinition {
    public func multipleChoiceItems(_ rows: [DatasetValue]) throws -> [MultipleChoiceItem] {
        let delimiter = targetDelimiter ?? " "
        return try rows.enumerated().map { index, row in
            do {
                return try multipleChoiceItem(index: index, row: row, delimiter: delimiter)
            } catch let error as EvalError {
                throw EvalError("\(name) item \(index): \(error.description)")
            }
        }
    }

    private func multipleChoiceItem(index: Int, row: DatasetValue, delimiter: String) throws -> MultipleChoiceItem {
        let goldIndex = try goldIndex(row)
        if let partial = partialScoring {
            guard let sentence = row.at(partial.sentence)?.text, let blank = sentence.range(of: partial.blank) else {
                throw EvalError("no '\(partial.blank)' in field '\(partial.sentence)'")
            }
            let options = try partial.options.map { field -> String in
                guard let text = row.at(field)?.text else { throw EvalError("no field '\(field)'") }
                return text
            }
            let before = String(sentence[..<blank.lowerBound])
            let target = String(sentence[blank.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
            let contexts = options.map { before + $0 }
            guard options.indices.contains(goldIndex) else { throw EvalError("gold \(goldIndex) is not an option") }
            return MultipleChoiceItem(index: index, contexts: contexts,
                                      continuations: Array(repeating: delimiter + target, count: options.count),
                                      choices: contexts, gold: goldIndex, question: sentence, options: options)
        }
        guard let contextTemplate = context else { throw EvalError("task \(name) has no context template") }
        var query = try TextTemplate.render(contextTemplate, row: row)
        for filter in contextFilters ?? [] { query = try TextFilter.apply(filter, to: query) }
        guard let spec = choices else { throw EvalError("task \(name) has no choices") }
        var texts: [String]
        if let list = spec.list {
            guard let values = row.at(list)?.strings else { throw EvalError("field '\(list)' is not a list of strings") }
            texts = values
        } else if let fields = spec.fields {
            texts = try fields.map { field in
                guard let text = row.at(field)?.text else { throw EvalError("no field '\(field)'") }
                return text
            }
        } else {
            throw EvalError("task \(name): choices need 'list' or 'fields'")
        }
        for filter in spec.filters ?? [] { texts = try texts.map { try TextFilter.apply(filter, to: $0) } }
        guard texts.indices.contains(goldIndex) else { throw EvalError("gold \(goldIndex) outside \(texts.count) choices") }
        return MultipleChoiceItem(index: index, contexts: Array(repeating: query, count: texts.count),
                                  continuations: texts.map { delimiter + $0 }, choices: texts, gold: goldIndex,
                                  question: query, options: texts)
    }

    func goldIndex(_ row: DatasetValue) throws -> Int {
        guard let gold else { throw EvalError("task \(name) has no gold") }
        if let value = gold.indexOf, let list = gold.in {
            guard let key = row.at(value)?.text, let labels = row.at(list)?.strings else {
                throw EvalError("gold needs fields '\(value)' and '\(list)'")
            }
            guard let position = labels.firstIndex(of: key) else { throw EvalError("'\(key)' is not in \(labels)") }
            return position
        }
        guard let field = gold.field, let value = row.at(field) else { throw EvalError("gold field missing") }
        if let map = gold.map {
            guard let key = value.text, let mapped = map[key] else { throw EvalError("gold value \(value) not in the map") }
            return mapped
        }
        guard let number = value.integer else { throw EvalError("gold field '\(field)' is not an integer") }
        return number
    }

    public func textItems(_ rows: [DatasetValue]) throws -> [TextItem] {
        guard let answer else { throw EvalError("task \(name) has no 'answer' (the text to score)") }
        return try rows.enumerated().map { index, row in
            TextItem(index: index, context: try context.map { try TextTemplate.render($0, row: row) } ?? "",
                     text: try TextTemplate.render(answer, row: row))
        }
    }

    /// IFEval rows: `prompt`, `instruction_id_list` and one `kwargs` record per instruction.
    public func instructionItems(_ rows: [DatasetValue]) throws -> [InstructionItem] {
        guard let contextTemplate = context else { throw EvalError("task \(name) has no context template") }
        return try rows.enumerated().map { index, row in
            guard let ids = row.at("instruction_id_list")?.strings, case .list(let kwargs)? = row.at("kwargs"),
                  kwargs.count == ids.count else {
                throw EvalError("\(name) item \(index): needs 'instruction_id_list' and as many 'kwargs'")
            }
            let instructions = try zip(ids, kwargs).map { id, arguments -> IFEvalInstruction in
                guard case .record(let fields) = arguments else { throw EvalError("\(name) item \(index): kwargs of \(id) is not a record") }
                return try IFEvalInstruction(id: id, kwargs: fields)
            }
            return InstructionItem(index: index, prompt: try TextTemplate.render(contextTemplate, row: row), instructions: instructions)
        }
    }

    public func generationItems(_ rows: [DatasetValue]) throws -> [GenerationItem] {
        guard let contextTemplate = context else { throw EvalError("task \(name) has no context template") }
        return try rows.enumerated().map { index, row in
            GenerationItem(index: index, prompt: try TextTemplate.render(contextTemplate, row: row),
                           answer: try answer.map { try TextTemplate.render($0, row: row) },
                           programTemplate: program, row: row)
        }
    }
}
