/// The memories injected into a chat turn: the best hits that fit a token budget, as a block for the system
/// prompt, and which memories were used (the reply shows them).
public struct MemoryContext: Sendable, Equatable {
    public var text: String
    public var used: [MemoryHit]

    /// Takes hits best first while the block stays within `budget` tokens (`countTokens` is the chat model's
    /// tokenizer); a memory that does not fit is skipped and smaller ones after it may still fit.
    public static func build(hits: [MemoryHit], budget: Int, countTokens: (String) -> Int) -> MemoryContext {
        let header = "Saved memories about the user (use them when relevant; do not mention them otherwise):"
        var used: [MemoryHit] = []
        var lines: [String] = []
        var spent = countTokens(header + "\n")
        guard spent < budget else { return MemoryContext(text: "", used: []) }
        for hit in hits {
            let line = "- " + hit.memory.text
            let cost = countTokens(line + "\n")
            guard spent + cost <= budget else { continue }
            spent += cost
            lines.append(line)
            used.append(hit)
        }
        guard !used.isEmpty else { return MemoryContext(text: "", used: []) }
        return MemoryContext(text: ([header] + lines).joined(separator: "\n"), used: used)
    }
}
