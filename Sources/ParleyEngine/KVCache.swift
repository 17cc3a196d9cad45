/// The keys and values one sequence has produced, per layer, stored as F16 (as llama.cpp does by default,
/// halving memory traffic; attention converts on the fly).
///
/// Layout: `[layer][position][kvLength]` for keys and values alike. Position p of the sequence lives at
/// slot p; `length` counts the positions written so far.
public final class SequenceCache: @unchecked Sendable {
    public let capacity: Int
    public let layers: Int
    public let kvLength: Int
    public internal(set) var length = 0

    let keys: UnsafeMutablePointer<Float16>
    let values: UnsafeMutablePointer<Float16>

    init(layers: Int, kvLength: Int, capacity: Int) {
        self.capacity = capacity
        self.layers = layers
        self.kvLength = kvLength
        let count = layers * capacity * kvLength
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    @inline(__always)
    func keyRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
        keys + (layer * capacity + position) * kvLength
    }

    @inline(__always)
    func valueRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
        values + (layer * capacity + position) * kvLength
    }

    /// Forgets everything after the first `count` positions (a new prompt that shares a prefix).
    public func truncate(to count: Int) {
        length = min(length, max(0, count))
    }
}
