import Foundation

/// A parsed `tokenizer.chat_template` (a Jinja2 template), rendered the way Hugging Face
/// `apply_chat_template` does: Jinja2 with `trim_blocks=True`, `lstrip_blocks=True`, the loop-controls
/// extension, a JSON `tojson` without HTML escaping, `raise_exception(msg)` and `strftime_now(fmt)`.
public struct ChatTemplate: Sendable {
    public let source: String
    let nodes: [Node]
    let lexer: Lexer

    /// Parses the template once. Throws `TemplateError` (kind `.syntax`, with line and column) on invalid text.
    public init(source: String) throws {
        var p = try Parser(source: source)
        nodes = try p.parseTemplate()
        lexer = p.lexer
        self.source = source
    }

    /// Renders a conversation.
    ///
    /// The template sees `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, `tools` (none unless given
    /// in `extra`), `documents` (likewise), plus every entry of `extra` (e.g. `date_string`, `tools`), which
    /// override the defaults. `now` is the time `strftime_now` reports (local time zone).
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
                       extra: [String: TemplateValue] = [:], now: Date = Date()) throws -> String {
        try render(messages: messages.map(\.templateValue), addGenerationPrompt: addGenerationPrompt,
                   bosToken: bosToken, eosToken: eosToken, extra: extra, now: now)
    }

    /// Renders messages given as arbitrary values (e.g. content as a list of parts, or extra per-message keys).
    public func render(messages: [TemplateValue], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
                       extra: [String: TemplateValue] = [:], now: Date = Date()) throws -> String {
        var context: [String: TemplateValue] = [
            "messages": .array(messages),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "tools": .none,
            "documents": .none,
        ]
        for (k, v) in extra { context[k] = v }
        return try render(context: context, now: now)
    }

    /// Renders with exactly the given top-level variables.
    public func render(context: [String: TemplateValue], now: Date = Date()) throws -> String {
        let interp = Interpreter(lexer: lexer, now: now)
        let globals = Frame(parent: nil)
        globals.vars = interp.globals { TemplateError(kind: .raised, message: $0, line: 0, column: 0) }
        let root = Frame(parent: globals)
        for (k, v) in context { root.vars[k] = Value(v) }
        var out = ""
        _ = try interp.exec(nodes, root, &out)
        return out
    }

    /// llama.cpp's fallback for models without a template (ChatML):
    /// `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n` when asked.
    public static let chatML: ChatTemplate = {
        // Parsing a fixed, known-good literal cannot fail.
        try! ChatTemplate(source: """
            {%- for message in messages -%}
            {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}
            {{- '<|im_start|>assistant\\n' -}}
            {%- endif -%}
            """)
    }()
}
