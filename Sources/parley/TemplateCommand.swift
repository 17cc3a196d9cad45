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

/// Decodes an OpenAI-style message list, keeping every field (content parts, tool calls, names) for the template.
func parseMessages(_ json: String) throws -> [TemplateValue] {
    guard let value = try? TemplateValue(json: json), case .array(let items) = value else {
        throw CLIError(#"--messages must be a JSON array of objects like {"role": "user", "content": "Hi"}"#)
    }
    for (index, item) in items.enumerated() {
        guard case .object(let object) = item, case .string = object["role"] ?? .none else {
            throw CLIError("message \(index) must be an object with a \"role\" string")
        }
    }
    return items
}
