import ParleyTokenizer

/// Keys and values for every sequence of a model, carved into blocks of `blockSize` positions (vLLM's paged
/// KV cache): a sequence takes blocks as it grows, so memory is never reserved for a maximum length, and a
/// full block can be shared by every sequence whose tokens up to it are the same (prefix caching).
///
/// Storage is F16, as llama.cpp's default cache: it halves memory traffic, and attention converts on the fly.
/// Layout: `[layer][block][position in block][kvLength]`.
public final class KVBlockPool: @unchecked Sendable {
    /// Positions per block (the prefix index stores a block's tokens inline as a SIMD16).
    public static let blockSize = 16

    public let layers: Int
    public let kvLength: Int
    public let blockCount: Int

    let keys: UnsafeMutablePointer<Float16>
    let values: UnsafeMutablePointer<Float16>

    /// How many sequences use each block; a block with no user may still hold a cached prefix.
    private var references: [Int32]
    /// Blocks holding nothing worth keeping.
    private var empty: [Int32]
    let prefixes: PrefixIndex
    private let lock = Lock()

    public init(layers: Int, kvLength: Int, blocks: Int) {
        precondition(blocks > 0)
        self.layers = layers
        self.kvLength = kvLength
        self.blockCount = blocks
        let count = layers * blocks * Self.blockSize * kvLength
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
        references = Array(repeating: 0, count: blocks)
        empty = (0..<Int32(blocks)).reversed()
        prefixes = PrefixIndex(blocks: blocks)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Blocks not used by any sequence (empty or holding an evictable cached prefix).
    public var availableBlocks: Int {
        lock.withLock { empty.count + prefixes.evictableCount }
    }

    public var usedBlocks: Int { blockCount - availableBlocks }

    /// Takes a block for writing; nil when every block is in use.
    func allocate() -> Int32? {
        lock.withLock {
            let block: Int32
            if let e = empty.popLast() {
                block = e
            } else if let evicted = prefixes.evictLeastRecentlyUsed() {
                block = evicted
            } else {
                return nil
            }
            references[Int(block)] = 1
            return block
        }
    }

    func retain(_ block: Int32) {
        lock.withLock {
            if references[Int(block)] == 0 { prefixes.markInUse(block) }
            references[Int(block)] += 1
        }
    }

    func release(_ block: Int32) {
        lock.withLock {
            references[Int(block)] -= 1
            guard references[Int(block)] == 0 else { return }
            // A block that holds a registered prefix stays cached until its space is needed.
            if !prefixes.markEvictable(block) { empty.append(block) }
        }
    }

    /// Records that `block` holds the keys and values of `tokens` following the prefix identified by `parent`.
    func register(block: Int32, parent: UInt64, tokens: UnsafeBufferPointer<TokenID>) -> UInt64 {
        lock.withLock { prefixes.register(block: block, parent: parent, tokens: tokens) }
    }

    /// The cached block that holds `tokens` after prefix `parent`, retained for the caller.
    func lookup(parent: UInt64, tokens: UnsafeBufferPointer<TokenID>) -> (block: Int32, hash: UInt64)? {
        lock.withLock {
            guard let found = prefixes.lookup(parent: parent, tokens: tokens) else { return nil }
            if references[Int(found.block)] == 0 { prefixes.markInUse(found.block) }
            references[Int(found.block)] += 1
            return found
        }
    }

    @inline(__always)
    func keyBlock(layer: Int, block: Int32) -> UnsafeMutablePointer<Float16> {
        keys + ((layer * blockCount + Int(block)) * Self.blockSize) * kvLength
    }

    @inline(__always)
    func valueBlock(layer: Int, block: Int32) -> UnsafeMutablePointer<Float16> {
        values + ((layer * blockCount + Int(block)) * Self.blockSize) * kvLength
    }
}

/// Full KV blocks indexed by a hash of (the prefix before them, their tokens), as vLLM's automatic prefix
/// caching does; blocks nobody uses are evicted least recently used first.
final class PrefixIndex {
    struct Entry {
        var block: Int32
        var parent: UInt64
        /// The block's tokens, inline (a block is 16 positions).
        var tokens: SIMD16<Int32>
    }

    private var byHash: [UInt64: Entry] = [:]
    private var hashOfBlock: [Int32: UInt64] = [:]
    /// Unused cached blocks in the order they became unused (the front is evicted first).
    private var evictable: [Int32] = []
    private var evictableSet = Set<Int32>()

    /// Room for every block is reserved up front, so registering a block never allocates.
    init(blocks: Int) {
        byHash.reserveCapacity(blocks)
        hashOfBlock.reserveCapacity(blocks)
        evictable.reserveCapacity(blocks)
        evictableSet.reserveCapacity(blocks)
    }

    static func pack(_ tokens: UnsafeBufferPointer<TokenID>) -> SIMD16<Int32> {
        var v = SIMD16<Int32>()
        for (i, t) in tokens.prefix(16).enumerated() { v[i] = t }
        return v
    }

    var evictableCount: Int { evictableSet.count }

    static func hash(parent: UInt64, tokens: UnsafeBufferPointer<TokenID>) -> UInt64 {
        // FNV-1a over the parent hash and token ids: cheap, and collisions are checked against the tokens.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ parent
        for t in tokens {
            h = (h ^ UInt64(UInt32(bitPattern: t))) &* 0x100_0000_01b3
        }
        return h
    }

    func register(block: Int32, parent: UInt64, tokens: UnsafeBufferPointer<TokenID>) -> UInt64 {
        let h = Self.hash(parent: parent, tokens: tokens)
        if byHash[h] == nil, hashOfBlock[block] == nil {
            byHash[h] = Entry(block: block, parent: parent, tokens: Self.pack(tokens))
            hashOfBlock[block] = h
        }
        return h
    }

    func lookup(parent: UInt64, tokens: UnsafeBufferPointer<TokenID>) -> (block: Int32, hash: UInt64)? {
        let h = Self.hash(parent: parent, tokens: tokens)
        guard let entry = byHash[h], entry.parent == parent, entry.tokens == Self.pack(tokens) else { return nil }
        return (entry.block, h)
    }

    func markInUse(_ block: Int32) {
        if evictableSet.remove(block) != nil { evictable.removeAll { $0 == block } }
    }

    /// Returns false when the block holds no registered prefix (it is simply empty).
    func markEvictable(_ block: Int32) -> Bool {
        guard hashOfBlock[block] != nil else { return false }
        if evictableSet.insert(block).inserted { evictable.append(block) }
        return true
    }

    func evictLeastRecentlyUsed() -> Int32? {
        guard !evictable.isEmpty else { return nil }
        let block = evictable.removeFirst()
        evictableSet.remove(block)
        if let h = hashOfBlock.removeValue(forKey: block) { byHash.removeValue(forKey: h) }
        return block
    }
}

/// One sequence's view of the pool: its block table and length.
public final class SequenceCache: @unchecked Sendable {
    public let pool: KVBlockPool
    /// Most positions this sequence may hold.
    public let capacity: Int
    public internal(set) var length = 0
    /// Block ids, one per `blockSize` positions.
    let blockTable: UnsafeMutablePointer<Int32>
    private(set) var blockCount = 0
    /// The prefix hash after each registered full block (for extending the chain).
    private var chain: [UInt64] = []
    /// Tokens written, to register full blocks as prefixes.
    private(set) var tokens: [TokenID] = []

    /// The LoRA adapter this sequence runs with (instead of the model's own); set before any token is written.
    /// Its blocks are shared as prefixes only with sequences of the same adapter.
    public var adapter: LoRAAdapter? {
        didSet { precondition(length == 0 && blockCount == 0, "a sequence's adapter is chosen before it holds tokens") }
    }

    /// Where the prefix hash chain starts: the adapter's identity, so cached blocks never cross adapters.
    private var rootHash: UInt64 { adapter.map { 0x9E37_79B9_7F4A_7C15 &* ($0.cacheIdentity &+ 1) } ?? 0 }

    public init(pool: KVBlockPool, capacity: Int) {
        self.pool = pool
        self.capacity = capacity
        blockTable = .allocate(capacity: (capacity + KVBlockPool.blockSize - 1) / KVBlockPool.blockSize)
        // Reserved up front so growing the sequence never allocates in the decode loop.
        tokens.reserveCapacity(capacity)
        chain.reserveCapacity(capacity / KVBlockPool.blockSize + 1)
    }

    deinit {
        for i in 0..<blockCount { pool.release(blockTable[i]) }
        blockTable.deallocate()
    }

    /// Makes room for positions `0..<count`; throws when the sequence or the pool is full.
    func reserve(_ count: Int) throws {
        guard count <= capacity else { throw EngineError.contextFull(capacity: capacity) }
        while blockCount * KVBlockPool.blockSize < count {
            guard let block = pool.allocate() else { throw EngineError.cacheExhausted(blocks: pool.blockCount) }
            blockTable[blockCount] = block
            blockCount += 1
        }
    }

    /// Records the token written at `position` and shares each block as a prefix once it is full.
    func recordToken(_ token: TokenID, at position: Int) {
        if position < tokens.count {
            tokens[position] = token
        } else {
            tokens.append(token)
        }
        let size = KVBlockPool.blockSize
        while (chain.count + 1) * size <= tokens.count {
            let b = chain.count
            let parent = chain.last ?? rootHash
            let h = tokens.withUnsafeBufferPointer {
                pool.register(block: blockTable[b], parent: parent,
                              tokens: UnsafeBufferPointer(rebasing: $0[(b * size)..<((b + 1) * size)]))
            }
            chain.append(h)
        }
    }

    /// Adopts cached blocks that hold a prefix of `prompt` (whole blocks only, and never the prompt's last
    /// token, whose logits the caller needs). Returns how many positions are now filled.
    public func adoptCachedPrefix(of prompt: [TokenID]) -> Int {
        guard length == 0, blockCount == 0 else { return length }
        let size = KVBlockPool.blockSize
        var parent: UInt64 = rootHash
        prompt.withUnsafeBufferPointer { p in
            while (blockCount + 1) * size < p.count {
                let slice = UnsafeBufferPointer(rebasing: p[(blockCount * size)..<((blockCount + 1) * size)])
                guard let found = pool.lookup(parent: parent, tokens: slice) else { break }
                blockTable[blockCount] = found.block
                blockCount += 1
                chain.append(found.hash)
                parent = found.hash
            }
        }
        tokens = Array(prompt[..<(blockCount * size)])
        length = blockCount * size
        return length
    }

    /// Forgets everything after the first `count` positions and gives back whole unused blocks.
    public func truncate(to count: Int) {
        let keep = min(length, max(0, count))
        length = keep
        if tokens.count > keep { tokens.removeSubrange(keep...) }
        let size = KVBlockPool.blockSize
        let blocksNeeded = (keep + size - 1) / size
        while blockCount > blocksNeeded {
            blockCount -= 1
            pool.release(blockTable[blockCount])
        }
        // A partly kept block may be shared; writing into it would change another sequence's prefix.
        if keep % size != 0, blockCount > 0, chain.count >= blockCount {
            chain.removeLast(chain.count - (blockCount - 1))
            let shared = blockTable[blockCount - 1]
            if let copy = pool.allocate() {
                copyBlock(from: shared, to: copy, positions: keep % size)
                pool.release(shared)
                blockTable[blockCount - 1] = copy
            } else {
                // No room for a private copy: drop the partial block and recompute those positions.
                blockCount -= 1
                pool.release(shared)
                length = blockCount * size
                tokens.removeSubrange(length...)
            }
        }
        if chain.count > keep / size { chain.removeLast(chain.count - keep / size) }
    }

    private func copyBlock(from source: Int32, to target: Int32, positions: Int) {
        for layer in 0..<pool.layers {
            pool.keyBlock(layer: layer, block: target).update(from: pool.keyBlock(layer: layer, block: source),
                                                             count: positions * pool.kvLength)
            pool.valueBlock(layer: layer, block: target).update(from: pool.valueBlock(layer: layer, block: source),
                                                               count: positions * pool.kvLength)
        }
    }

    /// Calls `body(keys, values, firstPosition, count)` for each run of positions in `range` that share a block;
    /// `keys`/`values` point at the first position's row (rows are `pool.kvLength` apart).
    @inline(__always)
    func forEachBlock(layer: Int, positions range: ClosedRange<Int>,
                      _ body: (UnsafeMutablePointer<Float16>, UnsafeMutablePointer<Float16>, Int, Int) -> Void) {
        let size = KVBlockPool.blockSize
        var p = range.lowerBound
        while p <= range.upperBound {
            let block = blockTable[p / size]
            let offset = p % size
            let count = min(size - offset, range.upperBound - p + 1)
            body(pool.keyBlock(layer: layer, block: block) + offset * pool.kvLength,
                 pool.valueBlock(layer: layer, block: block) + offset * pool.kvLength, p, count)
            p += count
        }
    }

    @inline(__always)
    func keyRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
        pool.keyBlock(layer: layer, block: blockTable[position / KVBlockPool.blockSize])
            + (position % KVBlockPool.blockSize) * pool.kvLength
    }

    @inline(__always)
    func valueRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
        pool.valueBlock(layer: layer, block: blockTable[position / KVBlockPool.blockSize])
            + (position % KVBlockPool.blockSize) * pool.kvLength
    }
}

/// A minimal mutex (pthread), for the pool's bookkeeping.
final class Lock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
