import Foundation
import ParleyEngine
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// The JSON automaton accepts exactly valid, schema-conforming text, and constrained generation through the
/// scheduler always yields JSON that parses and validates.
struct JSONConstraintTests {
    func accepts(_ node: JSONSchemaNode, _ text: String) -> Bool {
        let c = JSONConstraint(node)
        for b in text.utf8 {
            guard c.allows([b]) else { return false }
            c.advance([b])
        }
        return c.canEnd
    }

    func node(_ schema: String) throws -> JSONSchemaNode { try JSONSchemaNode(schema: TemplateValue(json: schema)) }

    @Test func anyJSON() {
        let any = JSONSchemaNode.freeObject(values: .any)
        #expect(accepts(any, #"{"a": [1, 2.5, -3e4, true, null, "x\"y\u00e9"], "b": {}}"#))
        #expect(accepts(any, "{}"))
        #expect(!accepts(any, #"{"a": 01}"#))
        #expect(!accepts(any, #"{"a": tru}"#))
        #expect(!accepts(any, #"{"a" 1}"#))
        #expect(!accepts(any, #"[1]"#))
        #expect(!accepts(any, #"{"a": 1,}"#))
        #expect(!accepts(any, #"{"a": 1} x"#))
    }

    @Test func schemaObjects() throws {
        let schema = try node(#"""
        {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
         "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2},
         "ok": {"type": ["boolean", "null"]}}, "required": ["name", "ok"]}
        """#)
        #expect(accepts(schema, #"{"name": "Ann", "age": 3, "tags": ["a"], "ok": null}"#))
        #expect(accepts(schema, #"{"name":"Ann","ok":true}"#))
        #expect(!accepts(schema, #"{"name": "Ann"}"#))  // ok is required
        #expect(!accepts(schema, #"{"name": "Ann", "age": 3.5, "ok": true}"#))
        #expect(!accepts(schema, #"{"name": "Ann", "tags": ["c"], "ok": true}"#))
        #expect(!accepts(schema, #"{"name": "Ann", "tags": ["a", "b", "a"], "ok": true}"#))
        #expect(!accepts(schema, #"{"name": "Ann", "extra": 1, "ok": true}"#))
        #expect(!accepts(schema, #"{"ok": true, "name": "Ann"}"#))  // declared order
    }

    @Test func aTightBudgetClosesTheValue() throws {
        let schema = try node(#"{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "array", "items": {"type": "integer"}, "minItems": 1}, "c": {"type": "boolean"}}, "required": ["a", "b", "c"]}"#)
        let c = JSONConstraint(schema)
        for b in #"{"a": "some long te"#.utf8 { c.advance([b]) }
        // A model that would write "x" forever, with 40 tokens left: the constraint closes the JSON in time.
        var text = #"{"a": "some long te"#
        var steps = 0
        while !c.mustEnd && steps < 40 {
            c.tokensLeft(40 - steps)
            let x = UInt8(ascii: "x")
            guard let b = c.allows([x]) ? x : (0..<128).map(UInt8.init).first(where: { c.allows([$0]) }) else { break }
            c.advance([b])
            text += String(UnicodeScalar(b))
            steps += 1
        }
        #expect(c.mustEnd)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect((parsed?["a"] as? String)?.hasPrefix("some long tex") == true)
        #expect(steps <= 40)
        #expect((parsed?["b"] as? [Any])?.count == 1)
        #expect(parsed?["c"] != nil)
    }

    @Test func unsupportedKeywordsAreRefusedByName() {
        #expect(throws: JSONSchemaNode.Unsupported.self) { try node(#"{"type": "string", "pattern": "^a"}"#) }
        #expect(throws: JSONSchemaNode.Unsupported.self) { try node(##"{"$ref": "#/x"}"##) }
        #expect(throws: JSONSchemaNode.Unsupported.self) { try node(#"{"anyOf": [{"type": "object"}, {"type": "object"}]}"#) }
    }

    @Test func constrainedGenerationParsesAndValidates() async throws {
        let model = SchedulerTests.model
        var c = SchedulerConfiguration()
        c.parallel = 2
        c.contextLength = 1024
        c.threads = 2
        let scheduler = Scheduler(model: model, configuration: c)
        defer { scheduler.shutdown() }
        let schema = try node(#"{"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}, "capital": {"type": "boolean"}}, "required": ["city", "population", "capital"]}"#)
        let prompt = SchedulerTests.chatPrompt("Give the city Paris as JSON with its population and whether it is a capital.")
        for constraint in [JSONConstraint(schema), JSONConstraint(.freeObject(values: .any))] {
            var p = SchedulerTests.greedy(120)
            p.sampling.temperature = 0
            let outcome = await SchedulerTests.collect(try scheduler.submit(SchedulerRequest(prompt: prompt, parameters: p, constraint: constraint)))
            #expect(outcome.summary?.finishReason == .stop, "ended by completing the JSON: \(outcome.text)")
            let parsed = try JSONSerialization.jsonObject(with: Data(outcome.text.utf8)) as? [String: Any]
            #expect(parsed != nil, "\(outcome.text)")
            if constraint.root == schema {
                #expect(parsed?["city"] is String)
                #expect(parsed?["population"] is NSNumber)
                #expect(parsed?["capital"] is Bool || (parsed?["capital"] as? NSNumber) != nil)
            }
        }
    }
}
