import Foundation

/// Finds durable facts and preferences in a user's turn — who they are, where they live and work, family and
/// pets, diet and allergies, lasting likes and habits, ongoing projects — to save as memories without being
/// asked ("auto-memory"). Passing chatter is left alone: questions and requests, moods and states ("I'm
/// tired", "我今天有点累"), anything tied to today or now, hypotheticals, and opinions about the conversation
/// itself ("I like this answer").
///
/// A rule-based classifier on purpose: it is cheap on every turn, explainable, and errs toward saving nothing
/// (the user can still say "remember …"). Each proposal is one sentence of the user's, in their words.
public enum MemoryProposer {
    /// At most `limit` sentences of `turn` worth remembering, in order.
    public static func proposals(in turn: String, limit: Int = 2) -> [String] {
        var found: [String] = []
        for (sentence, terminator) in sentences(turn) where isDurableFact(sentence, terminator: terminator) {
            found.append(sentence)
            if found.count == limit { break }
        }
        return found
    }

    /// Whether one sentence (without its end mark) states a durable fact about the speaker.
    public static func isDurableFact(_ sentence: String, terminator: Character? = nil) -> Bool {
        if let terminator, "?？".contains(terminator) { return false }
        let text = sentence.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return false }
        if text.unicodeScalars.contains(where: MemorySearchTermsCJK.isCJK) { return chineseFact(text) }
        return englishFact(text)
    }

    // MARK: English

    static func englishFact(_ raw: String) -> Bool {
        var s = " " + raw.lowercased().replacingOccurrences(of: "’", with: "'") + " "
        for (long, short) in [("i am ", "i'm "), ("do not ", "don't "), ("cannot ", "can't "), ("i have got ", "i've got ")] {
            s = s.replacingOccurrences(of: " " + long, with: " " + short)
        }
        let words = s.split(whereSeparator: { $0 == " " || $0 == "," }).count
        guard (2...30).contains(words) else { return false }
        if englishTransient.contains(where: { s.contains($0) }) { return false }
        var body = String(s.dropFirst())
        for lead in englishLeads where body.hasPrefix(lead) { body = String(body.dropFirst(lead.count)); break }
        if englishRequestStarts.contains(where: { body.hasPrefix($0) }) { return false }

        if englishFactStarts.contains(where: { body.hasPrefix($0) }) { return true }
        if let rest = body.dropPrefix(oneOf: ["i'm a ", "i'm an "]) {
            let hedges: [String] = ["bit ", "little ", "lot ", "tad ", "fan of this", "big fan of your"]
            return !hedges.contains { rest.hasPrefix($0) }
        }
        if let rest = body.dropPrefix(oneOf: ["i'm "]) {
            return englishDurableStates.contains { rest.hasPrefix($0) }
        }
        if let rest = body.dropPrefix(oneOf: ["i like ", "i love ", "i enjoy ", "i hate ", "i dislike ", "i don't like ", "i prefer ", "i really like ", "i really love "]) {
            let aboutTheChat: [String] = ["this", "that", "it ", "it.", "your", "you", "the answer", "the idea", "how ", "what ", "when ",
                                          "the way", "these", "those"]
            return !aboutTheChat.contains { rest.hasPrefix($0) }
        }
        if let rest = body.dropPrefix(oneOf: ["i have a ", "i have an ", "i've got a ", "i've got an ", "i have two ", "i have three ", "i have four ", "i have kids", "i have children", "i have twins"]) {
            return !englishTransientObjects.contains { rest.hasPrefix($0) }
        }
        if let rest = body.dropPrefix(oneOf: ["my "]) {
            guard let noun = englishPersonalNouns.first(where: { rest.hasPrefix($0 + " ") || rest.hasPrefix($0 + "'s ") }) else { return false }
            let after = rest.dropFirst(noun.count)
            guard englishLinks.contains(where: { after.contains($0) }) else { return false }
            return !englishPassingStates.contains(where: { after.contains(" " + $0 + " ") })
        }
        return false
    }

    /// Leading filler before the statement itself.
    static let englishLeads = ["by the way, ", "by the way ", "btw, ", "btw ", "fyi, ", "fyi ", "also, ", "also ", "and ", "oh, ", "oh ", "actually, ", "actually ", "just so you know, ", "for the record, ", "well, "]

    static let englishRequestStarts = ["what ", "how ", "why ", "when ", "where ", "who ", "which ", "can you", "could you", "would you",
                                       "will you", "do you", "did you", "are you", "is it", "is there", "tell me", "write ", "explain",
                                       "give me", "help me", "please", "let's", "show me", "make ", "translate", "summarize", "summarise"]

    /// Tied to now, a mood, or a maybe: not a lasting fact.
    static let englishTransient = [" today", " tonight", " right now", " at the moment", " this morning", " this afternoon",
                                   " this evening", " this week", " yesterday", " tomorrow", " just now", " for now", " later ",
                                   " if ", " would ", " might ", " maybe ", " perhaps ", " i think ", " i guess ", " i wonder ",
                                   " i feel ", " i'm feeling ", " i wish ", " i'm not sure", " kind of ", " sort of ", " lol "]

    static let englishFactStarts = [
        "my name is ", "call me ", "i'm called ", "i live in ", "i live near ", "i live with ", "i'm from ", "i come from ",
        "i was born ", "i grew up ", "i'm based in ", "i moved to ", "i work ", "i'm working as ", "i teach ", "i study ",
        "i'm studying ", "i'm learning ", "i'm retired", "i'm allergic to ", "i don't eat ", "i never eat ", "i can't eat ",
        "i don't drink ", "i can't stand ", "i always ", "i usually ", "i never ", "i speak ", "i'm fluent in ", "i'm a native ",
        "i drive ", "i own ", "i play ", "i'm training for ", "i'm saving up for ", "i'm saving for ", "i'm writing a ",
        "i'm building a ", "i'm working on a ", "my job is ", "my job ", "i'm married", "i'm engaged", "i'm divorced",
        "i'm vegetarian", "i'm vegan", "i'm pescatarian", "i'm lactose intolerant", "i'm gluten", "i'm diabetic",
        "i'm coeliac", "i'm celiac", "i'm left-handed", "i'm right-handed", "i'm colorblind", "i'm colourblind",
    ]

    /// "I'm …" that lasts (beside "I'm a/an …").
    static let englishDurableStates = ["vegetarian", "vegan", "allergic", "lactose", "gluten", "diabetic", "married", "engaged",
                                       "divorced", "single", "retired", "left-handed", "right-handed", "deaf", "blind", "pregnant",
                                       "from ", "based in ", "learning ", "studying ", "training for ", "saving ", "fluent "]

    static let englishTransientObjects = ["question", "quick", "problem", "idea", "meeting", "headache", "cold", "few ", "doubt",
                                          "issue", "bug", "error", "feeling", "suggestion", "request", "deadline", "appointment",
                                          "call", "minute", "second", "moment", "bad day", "good day", "follow", "favour", "favor"]

    static let englishPersonalNouns = ["name", "wife", "husband", "partner", "son", "daughter", "kids", "children", "child", "dog",
                                       "cat", "brother", "sister", "mother", "mom", "mum", "father", "dad", "parents", "boss",
                                       "birthday", "favourite", "favorite", "job", "team", "company", "girlfriend", "boyfriend",
                                       "family", "pet", "grandmother", "grandfather", "home", "hometown", "native language",
                                       "first language", "car", "employer", "cat's", "dog's"]

    static let englishLinks = [" is ", " are ", " was born", " lives ", " live ", " works ", " work ", " called ", " named ",
                               " has ", " have ", " plays ", " studies ", " goes to "]

    static let englishPassingStates = ["sick", "ill", "tired", "angry", "upset", "sad", "late", "away", "busy", "hungry", "bored",
                                       "asleep", "here", "back", "out", "broken", "down", "slow", "not working", "crashing", "wrong"]

    // MARK: Chinese

    static func chineseFact(_ raw: String) -> Bool {
        var s = raw.trimmingCharacters(in: .whitespaces)
        for lead in ["顺便说一下，", "顺便说一句，", "顺便说", "另外，", "另外", "对了，", "对了", "其实", "还有，", "还有"] where s.hasPrefix(lead) {
            s = String(s.dropFirst(lead.count)); break
        }
        guard (3...60).contains(s.count) else { return false }
        if chineseTransient.contains(where: { s.contains($0) }) { return false }
        guard s.hasPrefix("我") else { return false }
        let notFacts: [String] = ["我是说", "我是不是", "我有一个问题", "我有个问题", "我有点", "我有些", "我想", "我要", "我需要", "我觉得",
                                  "我感觉", "我在想", "我在找", "我在考虑"]
        if notFacts.contains(where: { s.hasPrefix($0) }) {
            return false
        }
        if chineseFactStarts.contains(where: { s.hasPrefix($0) }) { return true }
        let placesOfLife: [String] = ["工作", "上班", "读书", "上学", "学习", "住", "长大"]
        if s.hasPrefix("我在") { return placesOfLife.contains { s.contains($0) } }
        if s.hasPrefix("我对") { return s.contains("过敏") }
        if s.hasPrefix("我的") {
            let links: [String] = ["是", "叫", "在", "有"]
            return chinesePersonalNouns.contains(where: { s.dropFirst(2).hasPrefix($0) }) && links.contains { s.contains($0) }
        }
        return false
    }

    static let chineseFactStarts = ["我是", "我叫", "我的名字", "我住在", "我住", "我来自", "我出生", "我喜欢", "我不喜欢", "我讨厌",
                                    "我爱", "我不吃", "我不喝", "我吃素", "我有一", "我有两", "我有三", "我有个", "我养了", "我养",
                                    "我每天", "我每周", "我经常", "我一般", "我习惯", "我偏好", "我更喜欢", "我正在学", "我在学",
                                    "我会说", "我从事", "我做", "我开", "我老家"]

    static let chineseTransient = ["今天", "现在", "刚才", "刚刚", "昨天", "明天", "今晚", "今早", "这会儿", "这周", "累", "饿", "困",
                                   "无聊", "烦", "如果", "可能", "也许", "大概", "吗", "呢", "什么", "怎么", "为什么", "哪", "谁",
                                   "帮我", "请你", "请", "这个回答", "你的回答"]

    static let chinesePersonalNouns = ["女儿", "儿子", "孩子", "妻子", "老婆", "丈夫", "老公", "先生", "太太", "猫", "狗", "宠物",
                                       "生日", "名字", "工作", "职业", "公司", "家", "老家", "父亲", "母亲", "爸爸", "妈妈", "哥哥",
                                       "姐姐", "弟弟", "妹妹", "男朋友", "女朋友", "爱好", "车"]

    // MARK: Sentences

    /// The sentences of `text` with the mark that ended each (nil at the end of the text).
    static func sentences(_ text: String) -> [(String, Character?)] {
        var out: [(String, Character?)] = []
        var current = ""
        for character in text {
            if ".!?。！？;；\n".contains(character) {
                let trimmed = current.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { out.append((trimmed, character)) }
                current = ""
            } else {
                current.append(character)
            }
        }
        let trimmed = current.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty { out.append((trimmed, nil)) }
        return out
    }
}

/// The CJK ranges full-text search uses, for telling Chinese sentences apart.
enum MemorySearchTermsCJK {
    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2CEAF, 0xF900...0xFAFF: true
        default: false
        }
    }
}

extension String {
    /// The rest after the first of `prefixes` this string starts with.
    fileprivate func dropPrefix(oneOf prefixes: [String]) -> String? {
        for prefix in prefixes where hasPrefix(prefix) { return String(dropFirst(prefix.count)) }
        return nil
    }
}
