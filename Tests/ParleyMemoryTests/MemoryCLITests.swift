import Foundation
import ParleyTestSupport
import Testing

/// The stable contract through the real binary: `parley memory add --user NAME TEXT` and
/// `parley memory search --user NAME --top K --json QUERY` → `[{"text", "score"}…]` best first.
@Suite("parley memory (CLI contract)", .serialized)
struct MemoryCLITests {
    struct Line: Decodable, Equatable {
        let text: String
        let score: Double
    }

    @Test func addThenSearchThroughTheContract() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("parley-memory-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let environment = ["PARLEY_HOME": home.path,
                           "PARLEY_EMBEDDING_MODEL": try TestModels.path(named: "all-MiniLM-L6-v2")]
        func run(_ arguments: [String]) throws -> CLIResult {
            let result = try parley(["memory"] + arguments + ["-t", "2"], environment: environment)
            #expect(result.status == 0, "parley memory \(arguments): \(result.stderr)")
            return result
        }
        for fact in ["I'm vegetarian and I don't eat fish either.", "My cat is called Biscuit.", "我对花生过敏。"] {
            _ = try run(["add", "--user", "carol", fact])
        }
        _ = try run(["add", "--user", "dave", "I'm a vegetarian too, and I love mushrooms."])

        let english = try run(["search", "--user", "carol", "--top", "2", "--json", "Suggest a dinner I can eat"])
        let lines = try JSONDecoder().decode([Line].self, from: Data(english.stdout.utf8))
        #expect(lines.count == 2)
        #expect(lines.first?.text == "I'm vegetarian and I don't eat fish either.")
        #expect(lines.map(\.score) == lines.map(\.score).sorted(by: >))
        #expect(!lines.contains { $0.text.contains("mushrooms") }, "never another user's memory")

        let chinese = try run(["search", "--user", "carol", "--top", "1", "--json", "我能吃花生酱吗？"])
        #expect(try JSONDecoder().decode([Line].self, from: Data(chinese.stdout.utf8)).map(\.text) == ["我对花生过敏。"])

        let nobody = try run(["search", "--user", "nobody", "--top", "3", "--json", "anything"])
        #expect(try JSONDecoder().decode([Line].self, from: Data(nobody.stdout.utf8)).isEmpty, "an unknown user has no memories")

        // list, edit, delete by id.
        let listed = try run(["list", "--user", "carol", "--json"])
        struct Listed: Decodable { let id: String; let text: String }
        let memories = try JSONDecoder().decode([Listed].self, from: Data(listed.stdout.utf8))
        #expect(memories.count == 3)
        let cat = try #require(memories.first { $0.text.contains("Biscuit") })
        _ = try run(["edit", "--user", "carol", cat.id, "My dog is called Biscuit."])
        _ = try run(["delete", "--user", "carol", memories.first { $0.text.contains("花生") }!.id])
        let after = try JSONDecoder().decode([Listed].self, from: Data(try run(["list", "--user", "carol", "--json"]).stdout.utf8))
        #expect(Set(after.map(\.text)) == ["I'm vegetarian and I don't eat fish either.", "My dog is called Biscuit."])

        let wrongUser = try parley(["memory", "delete", "--user", "dave", cat.id], environment: environment)
        #expect(wrongUser.status != 0 && wrongUser.stderr.contains("no memory"), "another user's id is unknown: \(wrongUser.stderr)")
        let empty = try parley(["memory", "add", "--user", "carol", "   "], environment: environment)
        #expect(empty.status != 0 && empty.stderr.contains("empty"), "\(empty.stderr)")
    }
}
