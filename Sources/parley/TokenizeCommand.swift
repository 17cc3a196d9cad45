import ArgumentParser
import ParleyEngine

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of a text as a JSON array (special tokens parsed, no BOS added).")

    @OptionGroup var options: ModelOptions

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let model = try options.load()
        let ids = model.tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        writeOut(try jsonString(ids) + "\n")
    }
}
