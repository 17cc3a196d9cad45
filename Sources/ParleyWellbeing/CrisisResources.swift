import Foundation

/// One crisis line or directory. Data, not code: each entry names where its details were checked (`source`).
public struct CrisisResource: Codable, Sendable, Equatable {
    public var id: String
    /// ISO 3166-1 alpha-2 regions it serves; empty for the international fallback.
    public var regions: [String]
    /// BCP 47 language codes it answers in.
    public var languages: [String]
    public var name: String
    public var phone: String?
    public var text: String?
    public var url: String?
    public var hours: String?
    /// Local emergency number to mention alongside.
    public var emergency: String?
    /// Where the name and number were checked.
    public var source: String
    /// Caveats for whoever deploys this (e.g. a rollout in progress).
    public var note: String?
}

/// The crisis resources a deployment shows, chosen by the user's locale. The built-in set covers the US, the UK
/// and Ireland, mainland China and an international fallback; a deployment can load its own JSON array instead.
public struct CrisisResources: Sendable {
    public let entries: [CrisisResource]

    public init(entries: [CrisisResource]) { self.entries = entries }

    public static func parse(_ data: Data) throws -> CrisisResources {
        let entries = try JSONDecoder().decode([CrisisResource].self, from: data)
        for e in entries where e.source.isEmpty || e.name.isEmpty {
            throw PolicyError(path: "resources.\(e.id)", message: "every entry needs a name and a source")
        }
        guard entries.contains(where: { $0.regions.isEmpty }) else {
            throw PolicyError(path: "resources", message: "needs an international fallback entry (one with no regions)")
        }
        return CrisisResources(entries: entries)
    }

    public static let builtIn: CrisisResources = {
        do { return try parse(Data(builtInJSON.utf8)) } catch { preconditionFailure("built-in crisis resources invalid: \(error)") }
    }()

    /// The entries for a locale such as `en-US`, `en_GB`, `zh-Hans-CN` or `zh`: the region's lines, then the
    /// international fallback. A locale with no region uses its language's usual region (zh → CN) or none.
    public func card(forLocale locale: String) -> [CrisisResource] {
        let (language, region) = CrisisResources.split(locale)
        let effectiveRegion = region ?? CrisisResources.defaultRegion[language]
        var out: [CrisisResource] = []
        if let effectiveRegion {
            out = entries.filter { $0.regions.contains(effectiveRegion) }
            // Lines in the user's language first.
            out.sort { ($0.languages.contains(language) ? 0 : 1) < ($1.languages.contains(language) ? 0 : 1) }
        }
        out.append(contentsOf: entries.filter { $0.regions.isEmpty })
        return out
    }

    static let defaultRegion: [String: String] = ["zh": "CN"]

    static func split(_ locale: String) -> (language: String, region: String?) {
        let parts = locale.replacingOccurrences(of: "_", with: "-").split(separator: "-").map(String.init)
        let language = parts.first?.lowercased() ?? ""
        let region = parts.dropFirst().first { $0.count == 2 && $0.allSatisfy(\.isLetter) }?.uppercased()
        return (language, region)
    }

    public static let builtInJSON = #"""
    [
      {"id": "us-988", "regions": ["US"], "languages": ["en", "es"], "name": "988 Suicide & Crisis Lifeline",
       "phone": "988", "text": "988", "url": "https://988lifeline.org/", "hours": "24/7", "emergency": "911",
       "source": "https://988lifeline.org/"},
      {"id": "us-crisis-text-line", "regions": ["US"], "languages": ["en"], "name": "Crisis Text Line",
       "text": "Text HOME to 741741", "url": "https://www.crisistextline.org/", "hours": "24/7", "emergency": "911",
       "source": "https://www.crisistextline.org/"},
      {"id": "gb-samaritans", "regions": ["GB", "IE"], "languages": ["en"], "name": "Samaritans",
       "phone": "116 123", "url": "https://www.samaritans.org/", "hours": "24/7, free from any phone", "emergency": "999",
       "source": "https://www.samaritans.org/how-we-can-help/contact-samaritan/"},
      {"id": "gb-shout", "regions": ["GB"], "languages": ["en"], "name": "Shout",
       "text": "Text SHOUT to 85258", "url": "https://giveusashout.org/", "hours": "24/7", "emergency": "999",
       "source": "https://giveusashout.org/"},
      {"id": "cn-12356", "regions": ["CN"], "languages": ["zh"], "name": "全国统一心理援助热线 12356",
       "phone": "12356", "hours": "24小时（各省陆续接通）", "emergency": "120 / 110",
       "source": "https://zsrbapp.zsnews.cn/home/content/newsContent/pinpai_28.html/658757",
       "note": "National unified number set by the National Health Commission; connected province by province during 2025, check the user's province."},
      {"id": "cn-beijing-crisis-center", "regions": ["CN"], "languages": ["zh"], "name": "北京心理危机研究与干预中心（北京回龙观医院）",
       "phone": "010-82951332", "url": "http://www.crisis.org.cn/", "hours": "24小时", "emergency": "120 / 110",
       "source": "http://www.crisis.org.cn/"},
      {"id": "cn-hope24", "regions": ["CN"], "languages": ["zh"], "name": "希望24热线（全国生命危机干预热线）",
       "phone": "400-161-9995", "hours": "24小时", "emergency": "120 / 110",
       "source": "http://211.141.190.236/xinli/article/view.asp?id=156"},
      {"id": "intl-findahelpline", "regions": [], "languages": ["en", "zh"], "name": "Find A Helpline",
       "url": "https://findahelpline.com/", "hours": "directory of free, confidential helplines by country",
       "source": "https://findahelpline.com/"},
      {"id": "intl-iasp", "regions": [], "languages": ["en"], "name": "IASP crisis centres directory",
       "url": "https://www.iasp.info/crisis-centres-helplines/", "source": "https://www.iasp.info/crisis-centres-helplines/"}
    ]
    """#
}
