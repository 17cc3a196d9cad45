/// An open-addressing hash set of byte strings, each identified by the order it was added.
///
/// Token texts are compared as raw UTF-8 bytes: Swift `String` equality is canonical equivalence, which would
/// conflate precomposed and decomposed spellings that a vocabulary keeps apart.
struct ByteStringTable: Sendable {
    /// All entries' bytes, back to back.
    private(set) var storage: [UInt8] = []
    /// `starts[i] ..< starts[i + 1]` is entry i in `storage`.
    private(set) var starts: [Int32] = [0]
    /// -1 marks an empty slot; otherwise an entry index.
    private var slots: [Int32]
    private var mask: Int

    var count: Int { starts.count - 1 }

    init(expectedCount: Int, expectedBytes: Int = 0) {
        var size = 16
        while size < expectedCount * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        storage.reserveCapacity(expectedBytes)
        starts.reserveCapacity(expectedCount + 1)
    }

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        // FNV-1a, then a final avalanche so low bits are usable as a slot index.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<n {
            h = (h ^ UInt64(p[i])) &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    /// The entry index of these bytes, or -1.
    @inline(__always)
    func find(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        var slot = ByteStringTable.hash(p, n) & mask
        return storage.withUnsafeBufferPointer { st in
            starts.withUnsafeBufferPointer { sp in
                slots.withUnsafeBufferPointer { sl in
                    while true {
                        let e = sl[slot]
                        if e < 0 { return -1 }
                        let s = Int(sp[Int(e)]), len = Int(sp[Int(e) + 1]) - s
                        if len == n && (n == 0 || memcmpBytes(st.baseAddress! + s, p, n)) { return e }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    func find(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else {
                var zero: UInt8 = 0
                return withUnsafePointer(to: &zero) { find($0, 0) }
            }
            return find(base, b.count)
        }
    }

    /// Adds the bytes unless present; returns the entry index and whether it was new.
    @discardableResult
    mutating func insert(_ p: UnsafePointer<UInt8>, _ n: Int) -> (entry: Int32, inserted: Bool) {
        if (count + 1) * 2 > slots.count { grow() }
        var slot = ByteStringTable.hash(p, n) & mask
        while true {
            let e = slots[slot]
            if e < 0 { break }
            let s = Int(starts[Int(e)]), len = Int(starts[Int(e) + 1]) - s
            if len == n {
                let same = storage.withUnsafeBufferPointer { n == 0 || memcmpBytes($0.baseAddress! + s, p, n) }
                if same { return (e, false) }
            }
            slot = (slot + 1) & mask
        }
        let entry = Int32(count)
        storage.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        starts.append(Int32(storage.count))
        slots[slot] = entry
        return (entry, true)
    }

    @discardableResult
    mutating func insert(_ bytes: [UInt8]) -> (entry: Int32, inserted: Bool) {
        bytes.withUnsafeBufferPointer { b in
            if let base = b.baseAddress { return insert(base, b.count) }
            var zero: UInt8 = 0
            return withUnsafePointer(to: &zero) { insert($0, 0) }
        }
    }

    func bytes(of entry: Int32) -> ArraySlice<UInt8> {
        storage[Int(starts[Int(entry)]) ..< Int(starts[Int(entry) + 1])]
    }

    func length(of entry: Int32) -> Int { Int(starts[Int(entry) + 1] - starts[Int(entry)]) }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        storage.withUnsafeBufferPointer { st in
            for e in 0..<count {
                let s = Int(starts[e]), n = Int(starts[e + 1]) - s
                var slot = ByteStringTable.hash(st.baseAddress! + s, n) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(e)
            }
        }
    }
}

@inline(__always)
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
