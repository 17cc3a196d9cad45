import ParleyTokenizer

/// What to generate and what to report.
public struct GenerationParameters: Sendable {
    public var maxTokens: Int = 256
    public var sampling = SamplingParameters()
    /// Generation ends before any of these strings; the string itself is not returned.
    public var stopStrings: [String] = []
    /// Report the k most likely alternatives of each generated token (0: none).
    public var topLogprobs: Int = 0
    /// Report each generated token's own log-probability.
    public var logprobs = false
    /// Score the prompt: the distribution that predicted each prompt token after the first.
    public var echoPromptLogprobs = false
    /// Also stop at the model's end-of-generation tokens (the token is kept in `tokens`, not in the text).
    public var stopAtEndOfGeneration = true

    public init() {}
}

extension GenerationParameters {
    /// 1 when generation only ever takes the most likely token (greedy) and nothing needs the rest of the
    /// distribution; 0 otherwise (sampling, logprobs, prompt scoring, penalties that can reorder tokens).
    /// Top-k sampling could in principle use candidates too, but the sketch ranks the k-th token of a flat tail
    /// too loosely to verify it: measured, 30–100 % of top-40 rows fell back to the exact head.
    public var candidatesNeeded: Int {
        if logprobs || topLogprobs > 0 || echoPromptLogprobs { return 0 }
        let s = sampling
        if s.repetitionPenalty != 1 || s.presencePenalty != 0 || s.frequencyPenalty != 0 { return 0 }
        return s.temperature <= 0 ? 1 : 0
    }
}

public struct TokenLogprob: Sendable, Equatable {
    public var id: TokenID
    public var logprob: Float
    public var top: [(id: TokenID, logprob: Float)]

    public static func == (a: TokenLogprob, b: TokenLogprob) -> Bool {
        a.id == b.id && a.logprob == b.logprob && a.top.elementsEqual(b.top, by: { $0.id == $1.id && $0.logprob == $1.logprob })
    }
}

public enum FinishReason: String, Sendable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` reached.
    case length
    /// The caller's callback asked to stop.
    case cancelled
    /// The context window is full.
    case contextFull = "context_full"
}

/// One generated token as it streams: its id, the text it completes (may be empty while a multi-byte
/// character or a possible stop string is pending), and its log-probabilities when asked for.
public struct GeneratedToken: Sendable {
    public var id: TokenID
    public var text: String
    public var logprob: TokenLogprob?
}

public struct GenerationResult: Sendable {
    public var promptTokens: [TokenID]
    public var tokens: [TokenID]
    public var text: String
    public var finishReason: FinishReason
    public var logprobs: [TokenLogprob]
    /// Entry i (i ≥ 1) is the distribution that predicted prompt token i; entry 0 is nil.
    public var promptLogprobs: [TokenLogprob?]
}

/// Holds back text that might be the start of a stop string, and finds stop strings as text streams in.
public struct StopStringMatcher: Sendable {
    public let stops: [String]
    public private(set) var pending = ""

    public init(_ stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Adds text; returns what can be emitted now and whether a stop string was reached.
    public mutating func append(_ text: String) -> (emit: String, stopped: Bool) {
        pending += text
        guard !stops.isEmpty else {
            defer { pending = "" }
            return (pending, false)
        }
        // The earliest stop string occurrence ends generation there.
        var earliest: String.Index?
        for stop in stops {
            if let range = pending.range(of: stop), earliest.map({ range.lowerBound < $0 }) ?? true {
                earliest = range.lowerBound
            }
        }
        if let cut = earliest {
            let emit = String(pending[..<cut])
            pending = ""
            return (emit, true)
        }
        // Keep the longest suffix that is a prefix of some stop string.
        var hold = 0
        let chars = Array(pending)
        for stop in stops {
            let s = Array(stop)
            for length in stride(from: min(s.count - 1, chars.count), to: hold, by: -1)
            where chars[(chars.count - length)...].elementsEqual(s[..<length]) {
                hold = length
                break
            }
        }
        let emit = String(chars[..<(chars.count - hold)])
        pending = String(chars[(chars.count - hold)...])
        return (emit, false)
    }

    public mutating func flush() -> String {
        defer { pending = "" }
        return pending
    }
}
