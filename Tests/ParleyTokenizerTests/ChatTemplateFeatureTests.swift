import Foundation
import ParleyTokenizer
import Testing

/// Individual Jinja features (loops, namespaces, whitespace control, filters, tests, methods, literals) compared
/// with Python Jinja2 via features.json, plus errors, positions and safety limits.
@Suite("ChatTemplate features")
struct ChatTemplateFeatureTests {
    struct Feature: Sendable, CustomTestStringConvertible {
        var name: String
        var source: String
        var context: [String: TemplateValue]
        var expected: String?
        var testDescription: String { name }
    }

    static let features: [Feature] = {
        guard case .object(let root)? = try? ChatTemplateFixtures.json("features.json"),
              case .array(let cases)? = root["cases"] else { return [] }
        return cases.compactMap { c in
            guard case .object(let o) = c, let name = ChatTemplateFixtures.string(o["name"]),
                  let source = ChatTemplateFixtures.string(o["template"]) else { return nil }
            var ctx: [String: TemplateValue] = [:]
            if case .object(let co)? = o["context"] { for (k, v) in co.pairs { ctx[k] = v } }
            return Feature(name: name, source: source, context: ctx, expected: ChatTemplateFixtures.string(o["expected"]))
        }
    }()

    @Test func featureFixturesArePresent() { #expect(Self.features.count >= 30) }

    @Test(arguments: Self.features)
    func matchesJinja2(_ f: Feature) throws {
        let render = { try ChatTemplate(source: f.source).render(context: f.context, now: ChatTemplateFixtures.fixedNow) }
        if let expected = f.expected {
            #expect(try render() == expected)
        } else {
            #expect(throws: TemplateError.self) { try render() }
        }
    }

    func render(_ source: String, _ context: [String: TemplateValue] = [:]) throws -> String {
        try ChatTemplate(source: source).render(context: context)
    }

    func error(_ body: () throws -> Any) -> TemplateError? {
        do { _ = try body(); return nil } catch let e as TemplateError { return e } catch { return nil }
    }

    @Test func raiseExceptionCarriesMessageAndPosition() {
        let e = error { try render("ok\n  {{ raise_exception('Roles must alternate!') }}") }
        #expect(e?.kind == .raised)
        #expect(e?.message == "Roles must alternate!")
        #expect(e?.line == 2)
    }

    @Test func syntaxErrorsHaveLineAndColumn() throws {
        let unclosed = error { try ChatTemplate(source: "a\n{% if x %}\nb") }
        #expect(unclosed?.kind == .syntax)
        #expect(unclosed?.message.contains("endif") == true)

        let badToken = error { try ChatTemplate(source: "line one\n  {{ 1 + }}") }
        #expect(badToken?.kind == .syntax)
        #expect(badToken?.line == 2)
        #expect(badToken?.column == 10)

        let unknownTag = error { try ChatTemplate(source: "{% include 'x' %}") }
        #expect(unknownTag?.kind == .syntax)
        #expect(unknownTag?.line == 1)

        for bad in ["{{", "{% for %}", "{{ 'unterminated }}", "{# no end", "{{ (1 }}", "{% endif %}", "{{ a b }}",
                    "{% set %}", "{{ x | }}", "{% macro m(a=1, b) %}{% endmacro %}", "{{ ] }}", "{{ 1 if }}"] {
            #expect(throws: TemplateError.self, "\(bad)") { try ChatTemplate(source: bad) }
        }
    }

    @Test func runtimeErrorsAreReported() {
        let undefinedAttr = error { try render("{{ a.b }}") }
        #expect(undefinedAttr?.kind == .runtime)
        #expect(undefinedAttr?.message == "'a' is undefined")
        #expect(error { try render("{{ x | nosuchfilter }}") }?.message == "no filter named 'nosuchfilter'")
        #expect(error { try render("{{ 1 / 0 }}") }?.kind == .runtime)
        #expect(error { try render("{{ [].append(1) }}") }?.kind == .runtime)
        #expect(error { try render("{{ 'a' + 1 }}") }?.kind == .runtime)
    }

    @Test func safetyLimits() throws {
        #expect(error { try render("{{ 'x' * 100000000 }}") }?.kind == .limit)
        #expect(error { try render("{% for i in range(1000000) %}{% endfor %}") }?.kind == .limit)
        #expect(error { try render("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}") }?.kind == .limit)
        let deep = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
        #expect(error { try ChatTemplate(source: "{{ \(deep) }}") }?.kind == .syntax)
        let nested = String(repeating: "{% if true %}", count: 5000)
        #expect(throws: TemplateError.self) { try ChatTemplate(source: nested) }
        #expect(error {
            try render("{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}")
        }?.kind == .limit)
    }

    @Test func chatMessageAPI() throws {
        let t = try ChatTemplate(source: "{% for m in messages %}{{ m.role }}:{{ m.content }}|{{ m.tool_calls is defined }}|{{ m.tool_calls | tojson if m.tool_calls }};{% endfor %}{{ bos_token }}{{ eos_token }}{{ add_generation_prompt }}{{ tools }}{{ date_string }}")
        let call: TemplateValue = ["type": "function", "function": ["name": "f", "arguments": ["b": 1, "a": "x"]]]
        let out = try t.render(messages: [ChatMessage(role: "user", content: "hi"),
                                          ChatMessage(role: "assistant", content: nil, toolCalls: [call])],
                               addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>",
                               extra: ["date_string": "1 Jan 2025"])
        #expect(out == "user:hi|False|;assistant:None|True|[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": {\"b\": 1, \"a\": \"x\"}}}];<s></s>TrueNone1 Jan 2025")
    }

    @Test func chatMLFallback() throws {
        let out = try ChatTemplate.chatML.render(messages: [ChatMessage(role: "system", content: "S"),
                                                            ChatMessage(role: "user", content: "U")],
                                                 addGenerationPrompt: true, bosToken: "", eosToken: "")
        #expect(out == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
        let noPrompt = try ChatTemplate.chatML.render(messages: [ChatMessage(role: "user", content: "U")],
                                                      addGenerationPrompt: false, bosToken: "", eosToken: "")
        #expect(noPrompt == "<|im_start|>user\nU<|im_end|>\n")
    }

    @Test func jsonValues() throws {
        let v = try TemplateValue(json: #"{"z": [1, 2.5, true, null, "\u00e9\n"], "a": {}}"#)
        #expect(v.jsonString() == #"{"z": [1, 2.5, true, null, "é\n"], "a": {}}"#)
        #expect(v.jsonString(indent: 1) == "{\n \"z\": [\n  1,\n  2.5,\n  true,\n  null,\n  \"é\\n\"\n ],\n \"a\": {}\n}")
        #expect(throws: TemplateError.self) { try TemplateValue(json: "{\"a\": }") }
    }

    @Test func garbageNeverCrashes() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "if", "for", "x", "in", "endif", "endfor", "(", ")",
                      "[", "]", "'", "\"", "|", "is", "not", "set", "=", ".", "1", "\n", " ", "loop", "macro", "~"]
        for _ in 0..<2000 {
            let src = (0..<Int.random(in: 1...25, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            if let t = try? ChatTemplate(source: src) {
                _ = try? t.render(messages: [ChatMessage(role: "user", content: "x")], addGenerationPrompt: true,
                                  bosToken: "", eosToken: "")
            }
        }
    }
}
