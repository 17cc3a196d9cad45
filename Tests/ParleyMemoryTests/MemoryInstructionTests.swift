import Foundation
import ParleyMemory
import ParleyStore
import Testing

@Suite("Explicit memory instructions and the injected context")
struct MemoryInstructionTests {
    @Test func rememberAndForgetAtTheStartOfATurn() {
        #expect(MemoryInstruction.parse("Remember that I'm vegetarian.") == .remember("I'm vegetarian"))
        #expect(MemoryInstruction.parse("please remember: my cat is called Biscuit") == .remember("my cat is called Biscuit"))
        #expect(MemoryInstruction.parse("Forget where I work") == .forget("where I work"))
        #expect(MemoryInstruction.parse("记住我对花生过敏。") == .remember("我对花生过敏"))
        #expect(MemoryInstruction.parse("请忘掉我的地址") == .forget("我的地址"))
        #expect(MemoryInstruction.parse("I can't remember her name") == nil, "talk about remembering is not a request")
        #expect(MemoryInstruction.parse("Remembered anything?") == nil)
        #expect(MemoryInstruction.parse("remember") == nil, "nothing to remember")
    }

    @Test func contextKeepsTheBestHitsWithinTheBudget() {
        func hit(_ text: String, _ score: Double) -> MemoryHit {
            MemoryHit(memory: Memory(userID: "u", text: text, createdAt: .distantPast, updatedAt: .distantPast), score: score)
        }
        let words: (String) -> Int = { $0.split(whereSeparator: \.isWhitespace).count }
        let hits = [hit("I'm vegetarian.", 0.03), hit(String(repeating: "long ", count: 40), 0.02), hit("I live in Leeds.", 0.01)]
        let context = MemoryContext.build(hits: hits, budget: 30, countTokens: words)
        #expect(context.used.map(\.memory.text) == ["I'm vegetarian.", "I live in Leeds."], "the long one does not fit, later ones may")
        #expect(context.text.hasSuffix("- I'm vegetarian.\n- I live in Leeds."))
        #expect(words(context.text) <= 30)
        let none = MemoryContext.build(hits: hits, budget: 3, countTokens: words)
        #expect(none.text.isEmpty && none.used.isEmpty)
    }
}
