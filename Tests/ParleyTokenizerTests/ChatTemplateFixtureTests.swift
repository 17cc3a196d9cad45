import Foundation
import ParleyTokenizer
import Testing

/// Real model chat templates rendered over many conversations, compared byte for byte with Python Jinja2
/// (fixtures written by Tests/Fixtures/chat-templates/generate.py).
enum ChatTemplateFixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chat-templates")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func json(_ name: String) throws -> TemplateValue {
        try TemplateValue(json: try text(name))
    }

    /// generate.py's fixed `strftime_now` time: 2024-09-05 12:00 local time.
    static let fixedNow: Date = {
        var c = DateComponents()
        c.year = 2024; c.month = 9; c.day = 5; c.hour = 12
        return Calendar(identifier: .gregorian).date(from: c)!
    }()

    struct Case: Sendable, CustomTestStringConvertible {
        var template: String
        var name: String
        var bos: String
        var eos: String
        var addGenerationPrompt: Bool
        var messages: [TemplateValue]
        var extra: [String: TemplateValue]
        var expected: String?
        var raises: String?
        var fails: String?
        var testDescription: String { "\(template) / \(name)" }
    }

    static func string(_ v: TemplateValue?) -> String? {
        if case .string(let s)? = v { return s }
        return nil
    }

    static func loadCases() -> [Case] {
        guard case .object(let root)? = try? json("expected.json"), case .array(let cases)? = root["cases"] else {
            return []
        }
        return cases.compactMap { c in
            guard case .object(let o) = c, case .array(let msgs)? = o["messages"],
                  case .bool(let gen)? = o["add_generation_prompt"] else { return nil }
            var extra: [String: TemplateValue] = [:]
            if case .object(let e)? = o["extra"] { for (k, v) in e.pairs { extra[k] = v } }
            return Case(template: string(o["template"]) ?? "", name: string(o["name"]) ?? "",
                        bos: string(o["bos_token"]) ?? "", eos: string(o["eos_token"]) ?? "",
                        addGenerationPrompt: gen, messages: msgs, extra: extra,
                        expected: string(o["expected"]), raises: string(o["raises"]), fails: string(o["fails"]))
        }
    }

    static let cases = loadCases()
}

@Suite("ChatTemplate fixtures")
struct ChatTemplateFixtureTests {
    @Test func fixturesArePresent() {
        #expect(ChatTemplateFixtures.cases.count >= 100)
        let families = Set(ChatTemplateFixtures.cases.map(\.template))
        #expect(families.count >= 10)
    }

    @Test(arguments: ChatTemplateFixtures.cases)
    func rendersLikeJinja2(_ c: ChatTemplateFixtures.Case) throws {
        let template = try ChatTemplate(source: try ChatTemplateFixtures.text(c.template))
        let render = {
            try template.render(messages: c.messages, addGenerationPrompt: c.addGenerationPrompt, bosToken: c.bos,
                                eosToken: c.eos, extra: c.extra, now: ChatTemplateFixtures.fixedNow)
        }
        if let expected = c.expected {
            let got = try render()
            #expect(got == expected)
            if got != expected {
                let g = Array(got.unicodeScalars), e = Array(expected.unicodeScalars)
                let i = (0..<min(g.count, e.count)).first { g[$0] != e[$0] } ?? min(g.count, e.count)
                let lo = max(0, i - 40)
                Issue.record("first difference at scalar \(i): got \(String(String.UnicodeScalarView(g[lo..<min(g.count, i + 40)])).debugDescription) expected \(String(String.UnicodeScalarView(e[lo..<min(e.count, i + 40)])).debugDescription)")
            }
        } else if let message = c.raises {
            #expect {
                try render()
            } throws: { error in
                guard let e = error as? TemplateError else { return false }
                return e.kind == .raised && e.message == message && e.line > 0
            }
        } else {
            // Jinja2 failed with a Python TypeError etc.; we must fail too (not crash, not render).
            #expect(throws: TemplateError.self, "Jinja2: \(c.fails ?? "")") { try render() }
        }
    }

    /// llama.cpp's own renders for SmolLM2 (its GGUF template) and for the ChatML fallback (gemma-3-270m GGUF).
    @Test func matchesLlamaCppReference() throws {
        guard case .object(let root) = try ChatTemplateFixtures.json("llama-cpp-reference.json") else {
            Issue.record("bad reference file"); return
        }
        let smol = try ChatTemplate(source: try ChatTemplateFixtures.text("HuggingFaceTB-SmolLM2-135M-Instruct.jinja"))
        for (key, template) in [("smollm2", smol), ("gemma3_chatml_fallback", ChatTemplate.chatML)] {
            guard case .array(let cases)? = root[key] else { Issue.record("missing \(key)"); continue }
            #expect(cases.count == 4)
            for c in cases {
                guard case .object(let o) = c, case .array(let msgs)? = o["messages"],
                      let prompt = ChatTemplateFixtures.string(o["prompt"]) else { Issue.record("bad case"); continue }
                let messages = msgs.map { m -> ChatMessage in
                    guard case .object(let mo) = m else { return ChatMessage(role: "", content: nil) }
                    return ChatMessage(role: ChatTemplateFixtures.string(mo["role"]) ?? "",
                                       content: ChatTemplateFixtures.string(mo["content"]))
                }
                let got = try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<|im_start|>",
                                              eosToken: "<|im_end|>")
                #expect(got == prompt, "\(key)")
            }
        }
    }
}
