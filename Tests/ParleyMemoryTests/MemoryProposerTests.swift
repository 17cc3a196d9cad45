import Foundation
import ParleyMemory
import Testing

/// Auto-memory's classifier: durable facts and preferences are proposed, passing chatter never is.
@Suite("Automatic memory proposals")
struct MemoryProposerTests {
    /// Lasting facts about the speaker, English and Chinese, as users drop them into a turn.
    static let durable = [
        "I'm vegetarian.",
        "I am allergic to peanuts.",
        "I work as a night-shift nurse at the hospital.",
        "I live in Leeds with my husband.",
        "My daughter Emma is seven.",
        "My favourite colour is teal.",
        "I have a golden retriever named Max.",
        "I prefer short answers with bullet points.",
        "I'm a backend developer and I mostly write Go.",
        "By the way, I'm lactose intolerant.",
        "I don't eat pork.",
        "I'm learning Spanish on weekends.",
        "My name is Priya.",
        "I usually cycle to work.",
        "I'm training for the Edinburgh half marathon in May.",
        "我是素食者。",
        "我住在上海。",
        "我在一家银行工作。",
        "我对花生过敏。",
        "我的女儿叫小雨。",
        "我喜欢喝绿茶。",
        "我有一只猫叫咪咪。",
    ]

    /// Chatter: requests, questions, moods, today-and-now, hypotheticals, remarks about the conversation.
    static let chatter = [
        "What's the capital of France?",
        "Can you write a poem about the sea?",
        "I'm tired today.",
        "I'm a bit confused by that answer.",
        "I think that's right.",
        "I like this answer, thanks!",
        "I have a question about Python decorators.",
        "Thanks, that helps.",
        "Hello!",
        "I'm going to the shops now.",
        "If I were rich I would buy a boat.",
        "I love it.",
        "My code is not working.",
        "I'm feeling a bit down this morning.",
        "Is my dog sick?",
        "Maybe I'll learn French someday.",
        "Tell me about my favourite colour.",
        "Explain how transformers work",
        "Ok",
        "我今天有点累。",
        "你能帮我写一首诗吗？",
        "我觉得这个回答不错。",
        "我有一个问题。",
        "我想去吃饭了。",
        "明天天气怎么样？",
        "谢谢！",
    ]

    @Test func durableFactsAreProposed() {
        for sentence in Self.durable {
            #expect(MemoryProposer.proposals(in: sentence) == [sentence.trimmingCharacters(in: CharacterSet(charactersIn: ".。"))],
                    "should propose: \(sentence)")
        }
    }

    @Test func chatterIsNeverProposed() {
        for sentence in Self.chatter {
            #expect(MemoryProposer.proposals(in: sentence).isEmpty, "should not propose: \(sentence)")
        }
    }

    @Test func onlyTheFactOfAMixedTurnIsProposedAndAtMostTwo() {
        #expect(MemoryProposer.proposals(in: "Hi! I'm vegetarian. Can you suggest a dinner recipe?") == ["I'm vegetarian"])
        #expect(MemoryProposer.proposals(in: "我住在上海。你能推荐几家餐厅吗？") == ["我住在上海"])
        let many = "I live in Leeds. I'm vegetarian. I have a cat named Biscuit. I work as a nurse."
        #expect(MemoryProposer.proposals(in: many) == ["I live in Leeds", "I'm vegetarian"])
        #expect(MemoryProposer.proposals(in: many, limit: 4).count == 4)
    }
}
