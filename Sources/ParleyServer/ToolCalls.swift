import Foundation
import ParleyEngine
import ParleyTokenizer

/// `tools` and `tool_choice` of a chat request, compiled.
struct ToolSpec {
    var tools: [TemplateValue]  // the request's tool objects, for the template
    var names: [String]
    var descriptions: [String]
    var parameters: [TemplateValue]
    var schemas: [JSONSchemaNode]
    /// false: `tool_choice` "auto" (the model may answer in text instead).
    var required: Bool

    /// nil when there are no tools or `tool_choice` is "none".
    static func parse(_ fields: RequestFields) throws -> ToolSpec? {
        guard let value = fields.value("tools") else {
            if fields.value("tool_choice") != nil, (try? fields.string("tool_choice")) != "none" {
                throw OpenAIError.invalid("tool_choice", "'tool_choice' is only allowed when 'tools' are specified.")
            }
            return nil
        }
        guard case .array(let list) = value else { throw OpenAIError.invalid("tools", "'tools' must be an array.", code: "invalid_type") }
        if list.isEmpty { return nil }
        var spec = ToolSpec(tools: [], names: [], descriptions: [], parameters: [], schemas: [], required: false)
        for (i, tool) in list.enumerated() {
            let path = "tools[\(i)]"
            guard let o = tool.objectValue, o["type"] == .string("function"), let f = o["function"]?.objectValue else {
                throw OpenAIError.invalid(path, "'\(path)' must be {\"type\": \"function\", \"function\": {...}}.")
            }
            guard let name = f["name"]?.stringValue, !name.isEmpty else {
                throw OpenAIError.invalid(path + ".function.name", "'\(path).function.name' is required.", code: "missing_required_parameter")
            }
            let parameters = f["parameters"] ?? .obj([("type", "object"), ("properties", .obj([]))])
            do {
                spec.schemas.append(try JSONSchemaNode(schema: parameters, path: path + ".function.parameters"))
            } catch let e as JSONSchemaNode.Unsupported {
                throw OpenAIError.invalid(path + ".function.parameters", "Unsupported schema at \(e.description).")
            }
            spec.names.append(name)
            spec.descriptions.append(f["description"]?.stringValue ?? "")
            spec.parameters.append(parameters)
            spec.tools.append(tool)
        }
        switch fields.value("tool_choice") {
        case nil, .string("auto")?: spec.required = false
        case .string("none")?: return nil
        case .string("required")?: spec.required = true
        case .object(let o)?:
            guard let name = o["function"]?.objectValue?["name"]?.stringValue, let i = spec.names.firstIndex(of: name) else {
                throw OpenAIError.invalid("tool_choice", "'tool_choice' names a function that is not among 'tools'.")
            }
            spec = ToolSpec(tools: [spec.tools[i]], names: [name], descriptions: [spec.descriptions[i]],
                            parameters: [spec.parameters[i]], schemas: [spec.schemas[i]], required: true)
        default:
            throw OpenAIError.invalid("tool_choice", "'tool_choice' must be 'none', 'auto', 'required' or a function.")
        }
        return spec
    }

    /// Output: `{"name": ..., "arguments": {...}}`, the name selecting the arguments' schema.
    var constraint: JSONConstraint {
        JSONConstraint(.toolCall(names: names, arguments: schemas), allowText: !required)
    }

    /// The fallback instruction for templates without tool support.
    var instruction: String {
        var text = "You can call functions. Available functions:\n"
        for i in names.indices {
            text += TemplateValue.obj([("name", .string(names[i])), ("description", .string(descriptions[i])),
                                       ("parameters", parameters[i])]).jsonString() + "\n"
        }
        text += required
            ? "Call one of them: reply with only a JSON object {\"name\": <function name>, \"arguments\": <arguments object>}."
            : "To call one, reply with only a JSON object {\"name\": <function name>, \"arguments\": <arguments object>}; otherwise answer normally."
        return text
    }
}

/// Splits generated text into content or one tool call, incrementally, for streaming: the name as soon as it
/// is complete, the arguments as they grow (holding back what may be the closing brace of the call).
struct ToolCallSplitter {
    enum Delta: Equatable {
        case content(String)
        case name(String)
        case arguments(String)
    }

    let allowText: Bool
    private(set) var text = ""
    private var mode = 0  // 0 undecided, 1 text, 2 tool call
    private(set) var name: String?
    private var argumentsStart: String.Index?
    private var emitted = 0  // characters of the arguments already sent

    init(allowText: Bool) { self.allowText = allowText }

    var isToolCall: Bool { mode == 2 && name != nil }

    mutating func feed(_ piece: String) -> [Delta] {
        text += piece
        if mode == 0 {
            guard let first = text.first(where: { !$0.isWhitespace }) else { return [] }
            mode = (first == "{" || !allowText) ? 2 : 1
            if mode == 1 { return [.content(text)] }
        } else if mode == 1 {
            return piece.isEmpty ? [] : [.content(piece)]
        }
        var out: [Delta] = []
        if name == nil, let (n, start) = Self.nameAndArguments(text) {
            name = n
            argumentsStart = start
            out.append(.name(n))
        }
        if let start = argumentsStart {
            let args = text[start...]
            var keep = args.count
            for c in args.reversed() {
                guard c == "}" || c.isWhitespace else { break }
                keep -= 1
            }
            if keep > emitted {
                let fresh = String(args.dropFirst(emitted).prefix(keep - emitted))
                emitted = keep
                out.append(.arguments(fresh))
            }
        }
        return out
    }

    /// The rest at the end of generation.
    mutating func finish() -> [Delta] {
        if mode != 2 { return [] }
        guard let start = argumentsStart else {
            // Never became a recognisable call: report the text as content.
            mode = 1
            return text.isEmpty ? [] : [.content(text)]
        }
        var args = Substring(text[start...])
        while args.last?.isWhitespace == true { args.removeLast() }
        if args.last == "}" { args.removeLast() }
        while args.last?.isWhitespace == true { args.removeLast() }
        guard args.count > emitted else { return [] }
        let rest = String(args.dropFirst(emitted))
        emitted = args.count
        return [.arguments(rest)]
    }

    /// The call's name and where its arguments begin, once `"arguments":` has been written.
    static func nameAndArguments(_ text: String) -> (String, String.Index)? {
        guard let argsKey = text.range(of: "\"arguments\""),
              let colon = text[argsKey.upperBound...].firstIndex(of: ":") else { return nil }
        guard text[argsKey.upperBound..<colon].allSatisfy(\.isWhitespace) else { return nil }
        var start = text.index(after: colon)
        while start < text.endIndex, text[start].isWhitespace { start = text.index(after: start) }
        guard start < text.endIndex else { return nil }
        guard let nameKey = text.range(of: "\"name\""), let c = text[nameKey.upperBound...].firstIndex(of: ":") else { return nil }
        // The name is the JSON string between that colon and the comma before "arguments".
        let between = text[text.index(after: c)..<argsKey.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        guard between.hasSuffix(",") else { return nil }
        let literal = String(between.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = try? TemplateValue(json: literal), let name = value.stringValue else { return nil }
        return (name, start)
    }
}
