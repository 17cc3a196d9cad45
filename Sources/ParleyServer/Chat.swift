import Foundation
import ParleyEngine
import ParleyTokenizer
import ParleyWellbeing
import ParleyCredits

/// A validated generation request, ready for the scheduler.
struct GenerationPlan {
    var served: ServedModel
    var prompt: [TokenID]
    var parameters: GenerationParameters
    var constraint: JSONConstraint?
    var tools: ToolSpec?
    var stream: Bool
    var includeUsage: Bool
    /// The wellbeing assessment of the last user message, when it steers the reply (action not `none`).
    var wellbeing: WellbeingNotice? = nil
    /// Charges a project for the generation (a request made with a project's key).
    var meter: UsageMeter? = nil
}

/// Sampling, stop strings, lengths and logprobs common to chat and text completions.
func generationParameters(_ f: RequestFields, promptTokens: Int, context: Int, chat: Bool) throws -> GenerationParameters {
    var p = GenerationParameters()
    // Defaults follow llama-server's (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05); OpenAI's own
    // parameters override them.
    if let t = try f.number("temperature", in: 0...2) { p.sampling.temperature = Float(t) }
    if let tp = try f.number("top_p", in: 0...1) {
        guard tp > 0 else { throw OpenAIError.invalid("top_p", "'top_p' must be greater than 0.") }
        p.sampling.topP = Float(tp)
    }
    if let k = try f.int("top_k", in: 0...100_000) { p.sampling.topK = k }
    if let m = try f.number("min_p", in: 0...1) { p.sampling.minP = Float(m) }
    if let s = f.value("seed") {
        switch s {
        case .int(let v): p.sampling.seed = UInt64(bitPattern: Int64(v))
        default: throw OpenAIError.invalid("seed", "'seed' must be an integer.", code: "invalid_type")
        }
    }
    if let v = try f.number("presence_penalty", in: -2...2) { p.sampling.presencePenalty = Float(v) }
    if let v = try f.number("frequency_penalty", in: -2...2) { p.sampling.frequencyPenalty = Float(v) }
    if let n = try f.int("n", in: 1...128), n != 1 {
        throw OpenAIError.invalid("n", "Only n = 1 is supported.")
    }
    _ = try f.string("user")
    // llama.cpp's extension: keep generating past end-of-generation tokens (for benchmarks).
    if try f.bool("ignore_eos") == true { p.stopAtEndOfGeneration = false }
    p.stopStrings = try f.stopStrings()
    let room = context - promptTokens
    var maxTokens = room
    if chat, let m = try f.int("max_completion_tokens", in: 1...Int(Int32.max)) { maxTokens = m }
    if let m = try f.int("max_tokens", in: 1...Int(Int32.max)) { maxTokens = m }
    if !chat && f.value("max_tokens") == nil { maxTokens = 16 }  // the legacy endpoint's default
    p.maxTokens = max(1, min(maxTokens, room))
    if chat {
        let logprobs = try f.bool("logprobs") ?? false
        let top = try f.int("top_logprobs", in: 0...20) ?? 0
        if top > 0 && !logprobs {
            throw OpenAIError.invalid("top_logprobs", "'top_logprobs' requires 'logprobs' to be true.")
        }
        p.logprobs = logprobs
        p.topLogprobs = top
    } else if let n = try f.int("logprobs", in: 0...5) {
        p.logprobs = true
        p.topLogprobs = n
    }
    return p
}

/// `stream` and `stream_options.include_usage`.
func streamOptions(_ f: RequestFields) throws -> (stream: Bool, usage: Bool) {
    let stream = try f.bool("stream") ?? false
    var usage = false
    if let o = f.value("stream_options") {
        guard let obj = o.objectValue else { throw OpenAIError.invalid("stream_options", "'stream_options' must be an object.", code: "invalid_type") }
        guard stream else { throw OpenAIError.invalid("stream_options", "'stream_options' is only allowed when 'stream' is true.") }
        usage = try RequestFields(object: obj).bool("include_usage") ?? false
    }
    return (stream, usage)
}

/// Builds the plan of a `/v1/chat/completions` request.
func planChat(_ f: RequestFields, catalog: ModelCatalog, acceptLanguage: String? = nil) throws -> GenerationPlan {
    let served = try catalog.resolve(try f.string("model"))
    let model = served.model
    guard let list = f.value("messages")?.arrayValue else {
        throw OpenAIError.invalid("messages", f.value("messages") == nil ? "'messages' is required." : "'messages' must be an array.",
                                  code: f.value("messages") == nil ? "missing_required_parameter" : "invalid_type")
    }
    guard !list.isEmpty else { throw OpenAIError.invalid("messages", "'messages' must contain at least one message.") }
    let tools = try ToolSpec.parse(f)
    let templateHasTools = model.chatTemplate.source.contains("tools")
    var messages: [TemplateValue] = []
    for (i, raw) in list.enumerated() {
        messages.append(try chatMessage(raw, path: "messages[\(i)]", toolsInContent: !templateHasTools))
    }
    // Wellbeing: the last user message is assessed with the earlier ones as context; when the policy asks for
    // more than an ordinary reply, its guidance joins the system instruction for this generation.
    let turns: [ChatTurn] = messages.compactMap { m -> ChatTurn? in
        guard let o = m.objectValue, let role = o["role"]?.stringValue, role == "user" || role == "assistant" else { return nil }
        return ChatTurn(role: role, content: o["content"]?.stringValue ?? "")
    }
    let wellbeing = WellbeingNotice.assess(turns, acceptLanguage: acceptLanguage)
    if let wellbeing, !wellbeing.guidance.isEmpty {
        if case .object(var first) = messages[0], first["role"] == .string("system") {
            let existing = first["content"]?.stringValue ?? ""
            first["content"] = .string(existing + (existing.isEmpty ? "" : "\n\n") + wellbeing.guidance)
            messages[0] = .object(first)
        } else {
            messages.insert(.obj([("role", "system"), ("content", .string(wellbeing.guidance))]), at: 0)
        }
    }
    var extra: [String: TemplateValue] = [:]
    if let tools {
        if templateHasTools {
            extra["tools"] = .array(tools.tools)
        } else {
            // Templates without tool support get the tools as a system instruction.
            if case .object(var first) = messages[0], first["role"] == .string("system") {
                first["content"] = .string((first["content"]?.stringValue ?? "") + "\n\n" + tools.instruction)
                messages[0] = .object(first)
            } else {
                messages.insert(.obj([("role", "system"), ("content", .string(tools.instruction))]), at: 0)
            }
        }
    }
    let text: String
    do {
        text = try model.renderChat(messages, addGenerationPrompt: true, extra: extra)
    } catch {
        throw OpenAIError.invalid("messages", "The chat template could not render these messages: \(error)")
    }
    let prompt = model.tokenizePrompt(text)
    let context = served.scheduler.configuration.contextLength
    guard prompt.count < context else {
        throw OpenAIError.invalid("messages",
            "This model's maximum context length is \(context) tokens. However, your messages resulted in \(prompt.count) tokens.",
            code: "context_length_exceeded")
    }
    var parameters = try generationParameters(f, promptTokens: prompt.count, context: context, chat: true)
    parameters.stopStrings += model.chatStopStrings
    let (stream, usage) = try streamOptions(f)
    var constraint: JSONConstraint?
    if let tools {
        constraint = tools.constraint
    } else if let format = f.value("response_format") {
        constraint = try responseFormatConstraint(format)
    }
    return GenerationPlan(served: served, prompt: prompt, parameters: parameters, constraint: constraint,
                          tools: tools, stream: stream, includeUsage: usage, wellbeing: wellbeing)
}

/// `response_format`: text, `json_object`, or `json_schema` (compiled; unsupported keywords are a 400).
func responseFormatConstraint(_ format: TemplateValue) throws -> JSONConstraint? {
    guard let o = format.objectValue, let type = o["type"]?.stringValue else {
        throw OpenAIError.invalid("response_format", "'response_format' must be an object with a 'type'.")
    }
    switch type {
    case "text": return nil
    case "json_object": return JSONConstraint(.freeObject(values: .any))
    case "json_schema":
        guard let js = o["json_schema"]?.objectValue else {
            throw OpenAIError.invalid("response_format.json_schema", "'response_format.json_schema' is required.", code: "missing_required_parameter")
        }
        let schema = js["schema"] ?? .obj([("type", "object")])
        do {
            return JSONConstraint(try JSONSchemaNode(schema: schema, path: "response_format.json_schema.schema"))
        } catch let e as JSONSchemaNode.Unsupported {
            throw OpenAIError.invalid("response_format.json_schema.schema", "Unsupported schema at \(e.description).")
        }
    default:
        throw OpenAIError.invalid("response_format.type", "'response_format.type' must be 'text', 'json_object' or 'json_schema'.")
    }
}

/// One OpenAI message as a template value: content parts joined into text, tool-call arguments parsed.
func chatMessage(_ raw: TemplateValue, path: String, toolsInContent: Bool) throws -> TemplateValue {
    guard var o = raw.objectValue else { throw OpenAIError.invalid(path, "'\(path)' must be an object.", code: "invalid_type") }
    guard var role = o["role"]?.stringValue else {
        throw OpenAIError.invalid(path + ".role", "'\(path).role' is required.", code: "missing_required_parameter")
    }
    guard ["system", "user", "assistant", "tool", "developer", "function"].contains(role) else {
        throw OpenAIError.invalid(path + ".role", "'\(path).role' must be one of system, developer, user, assistant, tool.")
    }
    if role == "developer" { role = "system" }
    o["role"] = .string(role)
    switch o["content"] {
    case nil, .none?:
        if role != "assistant" {
            throw OpenAIError.invalid(path + ".content", "'\(path).content' is required.", code: "missing_required_parameter")
        }
        o["content"] = TemplateValue.none
    case .string?: break
    case .array(let parts)?:
        var text = ""
        for (j, part) in parts.enumerated() {
            guard let p = part.objectValue, let t = p["text"]?.stringValue,
                  p["type"]?.stringValue == "text" || p["type"]?.stringValue == "input_text" else {
                throw OpenAIError.invalid("\(path).content[\(j)]", "Only text content parts are supported.")
            }
            text += t
        }
        o["content"] = .string(text)
    default:
        throw OpenAIError.invalid(path + ".content", "'\(path).content' must be a string or an array of parts.", code: "invalid_type")
    }
    if let calls = o["tool_calls"] {
        guard case .array(let list) = calls else { throw OpenAIError.invalid(path + ".tool_calls", "must be an array", code: "invalid_type") }
        var parsed: [TemplateValue] = []
        var asText: [String] = []
        for call in list {
            guard var c = call.objectValue, var fn = c["function"]?.objectValue, let name = fn["name"]?.stringValue else {
                throw OpenAIError.invalid(path + ".tool_calls", "each tool call needs function.name")
            }
            var args = fn["arguments"] ?? .obj([])
            if case .string(let s) = args, let v = try? TemplateValue(json: s) { args = v }
            fn["arguments"] = args
            c["function"] = .object(fn)
            parsed.append(.object(c))
            asText.append(TemplateValue.obj([("name", .string(name)), ("arguments", args)]).jsonString())
        }
        o["tool_calls"] = .array(parsed)
        if toolsInContent {
            // Without template support, the call is shown as the JSON the model is asked to write.
            let existing = o["content"]?.stringValue ?? ""
            o["content"] = .string(existing + asText.joined(separator: "\n"))
            o["tool_calls"] = nil
        }
    }
    return .object(o)
}
