import ParleyEngine

/// What memory needs from an embedding model: vectors for texts, and the model's name (stored beside each
/// vector, so vectors of different models are never compared).
public protocol TextEmbedder: Sendable {
    var modelName: String { get }
    func embed(_ texts: [String]) throws -> [[Float]]
}

extension SentenceEncoder: TextEmbedder {
    public var modelName: String { name }
}
