import ArgumentParser

@main
struct Parley: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "A self-hosted assistant platform: a native LLM engine, an OpenAI-compatible server and a chat app."
    )
}
