import Foundation
import ParleyTestSupport
import Testing


struct ReferenceFile: Decodable {
    struct Tokenization: Decodable { let text: String; let ids: [Int] }
    struct Message: Codable { let role: String; let content: String }
    struct Rendering: Decodable { let messages: [Message]; let prompt: String }
    struct Greedy: Decodable { let prompt: String; let prompt_ids: [Int]; let generated_ids: [Int] }
    let tokenize: [Tokenization]
    let chat_template: [Rendering]
    let greedy: [Greedy]

    static func load(_ name: String) throws -> ReferenceFile {
        try JSONDecoder().decode(ReferenceFile.self, from: Data(contentsOf: TestModels.fixture(name)))
    }
}

struct CompleteOutput: Decodable {
    struct Alternative: Decodable { let id: Int; let logprob: Float }
    struct Entry: Decodable { let id: Int; let logprob: Float; let top: [Alternative] }
    let prompt_tokens: [Int]
    let tokens: [Int]
    let text: String
    let logprobs: [Entry]?
    let prompt_logprobs: [Entry?]?
}

@Suite(.serialized) struct CLITests {
    static let models: [(path: String, reference: String)] = [
        (TestModels.smolLM2, "reference-smollm2.json"),
        (TestModels.gemma3, "reference-gemma3.json"),
    ]

    @Test(arguments: [0, 1])
    func tokenizeMatchesReference(model: Int) throws {
        let (path, name) = Self.models[model]
        let reference = try ReferenceFile.load(name)
        for item in reference.tokenize.prefix(8) {
            let result = try parley(["tokenize", "-m", path, item.text])
            #expect(result.status == 0, "\(result.stderr)")
            let ids = try JSONDecoder().decode([Int].self, from: Data(result.stdout.utf8))
            #expect(ids == item.ids, "\(item.text)")
        }
    }

    @Test(arguments: [0, 1])
    func templateMatchesReferenceExactly(model: Int) throws {
        let (path, name) = Self.models[model]
        let reference = try ReferenceFile.load(name)
        for item in reference.chat_template {
            let messages = String(decoding: try JSONEncoder().encode(item.messages), as: UTF8.self)
            let result = try parley(["template", "-m", path, "--messages", messages])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == item.prompt)
        }
    }

    @Test func completeWithPromptIdsAndLogprobs() throws {
        let reference = try ReferenceFile.load("reference-smollm2.json")
        let greedy = reference.greedy[0]
        let ids = greedy.prompt_ids.map(String.init).joined(separator: ",")
        let result = try parley(["complete", "-m", TestModels.smolLM2, "--prompt-ids", ids, "--max-tokens", "8",
                                 "--temperature", "0", "--top-logprobs", "3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(CompleteOutput.self, from: Data(result.stdout.utf8))
        #expect(output.prompt_tokens == greedy.prompt_ids)
        // Greedy output must agree up to the first step where llama.cpp's top two are within 0.5 nats (step 5 here).
        #expect(output.tokens.prefix(5) == greedy.generated_ids.prefix(5))
        #expect(output.logprobs?.count == 8)
        #expect(output.logprobs?.allSatisfy { $0.top.count == 3 && $0.top[0].id == $0.id } == true)
        #expect(output.text.hasPrefix(" Paris"))
    }

    /// The portable scalar kernels and the AVX2 ones give the same greedy tokens as the default (AVX-512) path.
    @Test(arguments: ["scalar", "avx2"])
    func everyKernelPathGivesTheSameTokens(isa: String) throws {
        for (path, name) in Self.models {
            // Case 3 (a chat question) has no near-tie in its first 8 steps for either model.
            let greedy = try ReferenceFile.load(name).greedy[3]
            let ids = greedy.prompt_ids.map(String.init).joined(separator: ",")
            let result = try parley(["complete", "-m", path, "--prompt-ids", ids, "--max-tokens", "8", "--json"],
                                    environment: ["PARLEY_ISA": isa])
            #expect(result.status == 0, "\(result.stderr)")
            let output = try JSONDecoder().decode(CompleteOutput.self, from: Data(result.stdout.utf8))
            #expect(output.tokens == Array(greedy.generated_ids.prefix(8)), "\(isa) \(name)")
        }
    }

    @Test func completeTextPromptAddsBOSAsMetadataSays() throws {
        let reference = try ReferenceFile.load("reference-gemma3.json")
        let greedy = reference.greedy[0]
        let result = try parley(["complete", "-m", TestModels.gemma3, greedy.prompt, "--max-tokens", "4", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(CompleteOutput.self, from: Data(result.stdout.utf8))
        #expect(output.prompt_tokens == greedy.prompt_ids)
    }

    @Test func echoScoresThePromptWithoutGenerating() throws {
        let result = try parley(["complete", "-m", TestModels.smolLM2, "--prompt-ids", "504,3575,282,4649,314",
                                 "--max-tokens", "0", "--echo", "--top-logprobs", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(CompleteOutput.self, from: Data(result.stdout.utf8))
        #expect(output.tokens.isEmpty)
        let entries = try #require(output.prompt_logprobs)
        #expect(entries.count == 5)
        #expect(entries[0] == nil)
        #expect(entries.dropFirst().enumerated().allSatisfy { i, e in e?.id == output.prompt_tokens[i + 1] && (e?.logprob ?? 1) <= 0 })
    }

    @Test func runAnswersAQuestion() throws {
        let result = try parley(["run", "-m", TestModels.smolLM2, "--temperature", "0", "--max-tokens", "48",
                                 "What is the capital of Japan?"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Tokyo"), "\(result.stdout)")
    }

    /// `parley bench --json`: one object with the speed issue's keys (and it runs at all: a shared option once
    /// read before any parser had set it, and every bench trapped).
    @Test func benchPrintsOneJSONObject() throws {
        let result = try parley(["bench", "-m", TestModels.smolLM2, "-p", "16", "-n", "4", "-t", "1", "-r", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["prefill_tok_s"] as? Double ?? 0) > 0)
        #expect((object["decode_tok_s"] as? Double ?? 0) > 0)
        #expect(object["threads"] as? Int == 1)
        #expect((object["model"] as? String)?.contains("SmolLM2") == true)
    }

    @Test func corruptModelsFailWithOneLineError() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: TestModels.smolLM2))
        let dir = NSTemporaryDirectory() + "parley-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var cases: [(String, Data)] = [
            ("truncated-header", original.prefix(100)),
            ("truncated-metadata", original.prefix(1_000_000)),
            ("truncated-data", original.prefix(original.count - 4096)),
            ("empty", Data()),
        ]
        var badMagic = original.prefix(4096)
        badMagic[0] = 0
        cases.append(("bad-magic", badMagic))
        for (name, bytes) in cases {
            let path = dir + "/\(name).gguf"
            try bytes.write(to: URL(fileURLWithPath: path))
            for command in [["tokenize", "-m", path, "hi"], ["template", "-m", path, "--messages", "[]"],
                            ["complete", "-m", path, "hi", "--json"], ["run", "-m", path, "hi"]] {
                let result = try parley(command)
                #expect(result.exited && result.status != 0, "\(name) \(command[0]) ended with \(result.status)")
                let lines = result.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(name) \(command[0]): \(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
        }
    }
}
