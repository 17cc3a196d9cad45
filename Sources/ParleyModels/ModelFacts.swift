import Foundation
import ParleyGGUF

/// How many tensors of one ggml type a model has, and their bytes.
public struct TensorTypeCount: Codable, Sendable, Equatable {
    public var type: String
    public var tensors: Int
    public var bytes: Int

    public init(type: String, tensors: Int, bytes: Int) {
        self.type = type
        self.tensors = tensors
        self.bytes = bytes
    }
}

/// What a GGUF file says about the model in it: the facts a manifest records and `parley show` prints.
public struct ModelFacts: Sendable, Equatable {
    public var architecture: String?
    /// `general.name`, the converter's name for the model.
    public var displayName: String?
    public var parameterCount: Int
    /// A label for the quantization: llama.cpp's file-type name (`general.file_type`) when the file has one,
    /// otherwise the type holding most of the weight bytes.
    public var quantization: String
    /// Tensor-type histogram, most bytes first.
    public var tensorTypes: [TensorTypeCount]
    public var contextLength: Int?
    public var chatTemplate: String?
    public var license: String?

    public init(file: GGUFFile) {
        let metadata = file.metadata
        architecture = file.architecture
        displayName = metadata.string("general.name")
        // Saturating sums: each tensor's size is checked against the file, but a malformed file may declare
        // many huge zero-byte-backed tensors, and a summary must not trap on them.
        func add(_ a: Int, _ b: Int) -> Int {
            let (sum, overflow) = a.addingReportingOverflow(b)
            return overflow ? Int.max : sum
        }
        parameterCount = file.tensors.reduce(0) { add($0, $1.elementCount) }
        var byType: [GGMLType: (tensors: Int, bytes: Int)] = [:]
        for t in file.tensors {
            let old = byType[t.type] ?? (0, 0)
            byType[t.type] = (old.tensors + 1, add(old.bytes, t.byteCount))
        }
        tensorTypes = byType
            .map { TensorTypeCount(type: $0.key.description, tensors: $0.value.tensors, bytes: $0.value.bytes) }
            .sorted { ($0.bytes, $1.type) > ($1.bytes, $0.type) }
        if let fileType = metadata.int("general.file_type"), let label = Self.fileTypeNames[fileType] {
            quantization = label
        } else {
            quantization = tensorTypes.first?.type ?? "none"
        }
        if let architecture {
            contextLength = metadata.int("\(architecture).context_length")
        }
        chatTemplate = metadata.string("tokenizer.chat_template")
        license = metadata.string("general.license") ?? metadata.string("general.license.name")
    }

    /// llama.cpp's `llama_ftype` values (llama.h), as its tools print them.
    public static let fileTypeNames: [Int: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
        10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
        17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS",
        24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS",
        31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
    ]
}

/// The record the store keeps beside each model file.
public struct Manifest: Codable, Sendable, Equatable {
    public var name: String
    /// Where the file came from: a URL, `pypi:PACKAGE[+...]`, or `file:PATH`.
    public var source: String
    public var sha256: String
    public var size: Int
    public var architecture: String?
    public var parameterCount: Int
    public var quantization: String
    public var tensorTypes: [TensorTypeCount]
    public var contextLength: Int?
    public var hasChatTemplate: Bool
    public var license: String?
    public var installedAt: Date

    public init(name: String, source: String, sha256: String, size: Int, facts: ModelFacts, installedAt: Date = Date()) {
        self.name = name
        self.source = source
        self.sha256 = sha256
        self.size = size
        architecture = facts.architecture
        parameterCount = facts.parameterCount
        quantization = facts.quantization
        tensorTypes = facts.tensorTypes
        contextLength = facts.contextLength
        hasChatTemplate = facts.chatTemplate != nil
        license = facts.license
        // Whole seconds: the manifest stores ISO 8601 times.
        self.installedAt = Date(timeIntervalSince1970: installedAt.timeIntervalSince1970.rounded(.down))
    }
}

/// Human-readable sizes and counts for tables.
public enum Format {
    /// 98362432 → "98.4 MB" (decimal units, as download tools print them).
    public static func bytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: value < 10 ? "%.2f" : "%.1f", value) + " " + units[unit]
    }

    /// 134515008 → "134.5M".
    public static func count(_ n: Int) -> String {
        switch n {
        case ..<1_000: return "\(n)"
        case ..<1_000_000: return String(format: "%.1fK", Double(n) / 1e3)
        case ..<1_000_000_000: return String(format: "%.1fM", Double(n) / 1e6)
        default: return String(format: "%.2fB", Double(n) / 1e9)
        }
    }

    /// Seconds as "1m05s" / "12s".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
