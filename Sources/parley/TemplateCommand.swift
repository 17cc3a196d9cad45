import ArgumentParser
import Foundation
import ParleyEngine
import ParleyTokenizer

struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a conversation with the model's chat template (generation prompt added), exactly.")

    @OptionGroup var options: ModelOptions

    @Option(help: #"The conversation as JSON: [{"role": "user", "content": "Hi"}, ...]."#)
    var messages: String

    func run() throws {
        let model = try options.load()
        let parsed = try parseMessages(messages)
        writeOut(try model.renderChat(parsed, addGenerationPrompt: true))
    }
}

/// Decodes an OpenAI-style message list; `content` may be a string, null or a list of text parts.
func parseMessages(_ json: String) throws -> [ChatMessage] {
    guard let list = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
        throw CLIError(#"--messages must be a JSON array of objects like {"role": "user", "content": "Hi"}"#)
    }
    return try list.enumerated().map { index, item in
        guard let role = item["role"] as? String else { throw CLIError("message \(index) has no \"role\" string") }
        var content = ""
        switch item["content"] {
        case let text as String: content = text
        case let parts as [[String: Any]]: content = parts.compactMap { $0["text"] as? String }.joined()
        case nil, is NSNull: content = ""
        default: throw CLIError("message \(index): \"content\" must be a string, null or a list of text parts")
        }
        return ChatMessage(role: role, content: content)
    }
}
