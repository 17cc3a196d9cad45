import ParleyGGUF

/// How one layer attends: within a sliding window of positions or over the whole prefix, and the rotary base its
/// angles use. Read from the file's metadata once, so the forward pass and the trainer agree on every layer.
public struct LayerAttention: Sendable, Equatable {
    /// Keys within `window` positions of the query (itself included); nil: every earlier position.
    public let window: Int?
    public let ropeBase: Float
    /// Whether the layer rotates with the model's global base (Gemma 3's every-sixth layer; every llama layer).
    public let isGlobal: Bool

    /// Gemma 3's fixed base for its sliding-window layers (llama.cpp: rope_freq_base_train_swa).
    public static let gemma3LocalRoPEBase: Float = 10_000
    /// Gemma 3 makes every sixth layer global unless `gemma3.attention.sliding_window_pattern` says otherwise.
    public static let gemma3GlobalLayerPeriod = 6

    /// The layers of `file` in order.
    public static func layers(of file: GGUFFile, hyperparameters hp: Hyperparameters) -> [LayerAttention] {
        switch hp.architecture {
        case "gemma3":
            let window = file.metadata.int("gemma3.attention.sliding_window").flatMap { $0 > 0 ? $0 : nil }
            let period = file.metadata.int("gemma3.attention.sliding_window_pattern") ?? gemma3GlobalLayerPeriod
            return (0..<hp.blockCount).map { i in
                let isGlobal = window == nil || period <= 0 || i % period == period - 1
                return LayerAttention(window: isGlobal ? nil : window,
                                      ropeBase: isGlobal ? hp.ropeBase : gemma3LocalRoPEBase, isGlobal: isGlobal)
            }
        default:
            return Array(repeating: LayerAttention(window: nil, ropeBase: hp.ropeBase, isGlobal: true), count: hp.blockCount)
        }
    }
}

extension Hyperparameters {
    /// The hyperparameters of a model file of a supported architecture.
    public init(file: GGUFFile) throws {
        guard let arch = file.architecture else { throw EngineError.missingMetadata("general.architecture") }
        guard ModelRegistry.supportedArchitectures.contains(arch) else { throw EngineError.unsupportedArchitecture(arch) }
        try self.init(file, architecture: arch)
    }
}
