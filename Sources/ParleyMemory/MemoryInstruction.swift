import Foundation

/// An explicit request in a user's turn to save or drop a memory: "remember that I'm vegetarian",
/// "please forget where I work", "记住我对花生过敏", "忘掉我的地址".
///
/// Only requests at the start of the turn count (after an optional "please"/"can you"/"请"), so talk *about*
/// remembering ("I can't remember her name") is left alone.
public enum MemoryInstruction: Equatable, Sendable {
    /// Save the fact (the user's words after the verb, first person kept).
    case remember(String)
    /// Drop memories matching this description.
    case forget(String)

    public static func parse(_ turn: String) -> MemoryInstruction? {
        var text = turn.trimmingCharacters(in: .whitespacesAndNewlines)
        for prefix in politePrefixes {
            if let rest = text.dropPrefix(prefix) { text = rest.trimmingCharacters(in: .whitespaces); break }
        }
        for (verbs, make) in [(rememberVerbs, MemoryInstruction.remember), (forgetVerbs, MemoryInstruction.forget)] {
            for verb in verbs {
                guard var rest = text.dropPrefix(verb) else { continue }
                // An English verb must end at a word boundary ("remembered" is not "remember").
                if let last = verb.last, last.isASCII, last.isLetter, let next = rest.first, next.isASCII, next.isLetter { continue }
                rest = rest.trimmingCharacters(in: .whitespaces)
                for connective in connectives {
                    if let after = rest.dropPrefix(connective) { rest = after.trimmingCharacters(in: .whitespaces); break }
                }
                let fact = rest.trimmingCharacters(in: CharacterSet(charactersIn: " ,，:：。.!！")).trimmingCharacters(in: .whitespaces)
                guard !fact.isEmpty else { return nil }
                return make(fact)
            }
        }
        return nil
    }

    static let politePrefixes = ["please", "can you", "could you", "would you", "请你", "请", "麻烦你", "帮我"]
    static let rememberVerbs = ["remember", "keep in mind", "note", "记住", "记一下", "记得"]
    static let forgetVerbs = ["forget", "stop remembering", "忘记", "忘掉", "别记得", "不要记住"]
    static let connectives = ["that", "about", "：", ":", "，", ","]
}

extension String {
    /// The rest of the string after `prefix`, compared case-insensitively; nil when it does not start so.
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        guard lowercased().hasPrefix(prefix.lowercased()), count >= prefix.count else { return nil }
        return String(dropFirst(prefix.count))
    }
}
