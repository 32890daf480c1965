/// Hands out KV-cache block ids, counts their users, and remembers full blocks by content
/// so requests with a common prefix share them (automatic prefix caching).
///
/// A full block is keyed by its parent block (id and generation) and its token ids. The
/// index is a `Dictionary`, so a hit compares the actual token ids, and Swift's hasher is
/// seeded per process (SipHash): no crafted prompt can collide into another request's
/// blocks. A block's generation changes whenever it is reused for other content, so keys
/// naming an evicted parent can never match again.
///
/// Blocks with no user go back on the free list; cached ones stay cached (least recently
/// released evicted first) until the pool needs room. Running out is not an error:
/// `allocate` answers nil and the scheduler decides whom to preempt.
public final class BlockPool: @unchecked Sendable {
    /// What a cached full block holds.
    struct Key: Hashable {
        let parent: Int32
        let parentGeneration: UInt32
        let tokens: [Int32]
    }

    public let blockCount: Int
    /// Users of each block, `(blockCount)`.
    private var referenceCounts: [Int32]
    /// Bumped each time a block is handed out fresh, `(blockCount)`.
    private var generations: [UInt32]
    /// The content key of each cached block, `(blockCount)`.
    private var keys: [Key?]
    private var index: [Key: Int32] = [:]
    /// Unused blocks holding nothing worth keeping, taken from the end.
    private var freeList: [Int32]
    /// Unused cached blocks in release order (a doubly linked list over block ids).
    private var lruPrevious: [Int32]
    private var lruNext: [Int32]
    private var lruHead: Int32 = -1  // least recently released
    private var lruTail: Int32 = -1
    public private(set) var evictableCount = 0
    /// Blocks registered during the current step whose contents are still being computed.
    private var pending: Set<Int32> = []
    /// Prefix caching on or off; off, `register` and `lookup` do nothing.
    public var cachingEnabled = true
    public private(set) var evictions = 0

    init(blockCount: Int) {
        self.blockCount = blockCount
        referenceCounts = Array(repeating: 0, count: blockCount)
        generations = Array(repeating: 0, count: blockCount)
        keys = Array(repeating: nil, count: blockCount)
        freeList = (0..<Int32(blockCount)).reversed()
        lruPrevious = Array(repeating: -1, count: blockCount)
        lruNext = Array(repeating: -1, count: blockCount)
    }

    /// Blocks that can be allocated now (free or evictable).
    public var freeBlockCount: Int { freeList.count + evictableCount }
    /// Blocks in use by at least one sequence.
    public var usedBlockCount: Int { blockCount - freeBlockCount }
    /// Blocks holding cached content (in use or not).
    public var cachedBlockCount: Int { index.count }
    /// Blocks used by more than one sequence now.
    public var sharedBlockCount: Int { referenceCounts.reduce(0) { $0 + ($1 > 1 ? 1 : 0) } }

    /// A fresh block with one user, or nil when none is left. Evicts the least recently
    /// released cached block when the free list is empty.
    public func allocate() -> Int32? {
        let block: Int32
        if let free = freeList.popLast() {
            block = free
        } else if lruHead >= 0 {
            block = lruHead
            unlinkLRU(block)
            forget(block)
            evictions += 1
        } else {
            return nil
        }
        generations[Int(block)] &+= 1
        referenceCounts[Int(block)] = 1
        return block
    }

    /// Adds a user to `block` (a sequence sharing it).
    public func retain(_ block: Int32) {
        let b = Int(block)
        if referenceCounts[b] == 0 {
            precondition(keys[b] != nil, "retain of free block \(block)")
            unlinkLRU(block)
        }
        referenceCounts[b] += 1
    }

    /// Drops a user of `block`; the last one frees it (cached blocks stay cached).
    public func release(_ block: Int32) {
        let b = Int(block)
        precondition(referenceCounts[b] > 0, "double free of block \(block)")
        referenceCounts[b] -= 1
        guard referenceCounts[b] == 0 else { return }
        if keys[b] != nil && !pending.contains(block) {
            appendLRU(block)
        } else {
            forget(block)  // a pending block released before its step ran holds nothing
            freeList.append(block)
        }
    }

    /// Drops a user of every block in `table`.
    public func release<C: Collection>(_ table: C) where C.Element == Int32 {
        for block in table { release(block) }
    }

    /// Users of `block`.
    public func referenceCount(_ block: Int32) -> Int { Int(referenceCounts[Int(block)]) }

    // MARK: - Prefix cache

    /// Records that `block` (child of `parent`, -1 for the first) holds `tokens`, a full
    /// block. `computed: false` marks it pending until `markStepComputed()`. Content already
    /// cached in another block is left as it is.
    func register(_ block: Int32, parent: Int32, tokens: ArraySlice<Int32>, computed: Bool) {
        guard cachingEnabled, keys[Int(block)] == nil else { return }
        let key = Key(parent: parent, parentGeneration: parent >= 0 ? generations[Int(parent)] : 0, tokens: Array(tokens))
        guard index[key] == nil else { return }
        index[key] = block
        keys[Int(block)] = key
        if !computed { pending.insert(block) }
    }

    /// Blocks registered as pending have been computed by the step that just ran.
    func markStepComputed() {
        pending.removeAll(keepingCapacity: true)
    }

    /// The cached blocks holding the longest prefix of `tokens` made of whole blocks of
    /// `blockSize`, at most `maxBlocks`; `pending` tells whether the walk stopped at a block
    /// still being computed by another request this step. Does not retain them.
    func lookup(_ tokens: [Int32], blockSize: Int, maxBlocks: Int) -> (blocks: [Int32], pending: Bool) {
        guard cachingEnabled else { return ([], false) }
        var blocks: [Int32] = []
        var parent: Int32 = -1
        while blocks.count < maxBlocks {
            let start = blocks.count * blockSize
            let key = Key(parent: parent, parentGeneration: parent >= 0 ? generations[Int(parent)] : 0,
                          tokens: Array(tokens[start..<(start + blockSize)]))
            guard let block = index[key] else { break }
            if pending.contains(block) { return (blocks, true) }
            blocks.append(block)
            parent = block
        }
        return (blocks, false)
    }

    /// Removes a block's content key (it is being reused or its content was abandoned).
    private func forget(_ block: Int32) {
        if let key = keys[Int(block)] {
            index[key] = nil
            keys[Int(block)] = nil
        }
        pending.remove(block)
    }

    private func appendLRU(_ block: Int32) {
        let b = Int(block)
        lruPrevious[b] = lruTail
        lruNext[b] = -1
        if lruTail >= 0 { lruNext[Int(lruTail)] = block } else { lruHead = block }
        lruTail = block
        evictableCount += 1
    }

    private func unlinkLRU(_ block: Int32) {
        let b = Int(block)
        let previous = lruPrevious[b], next = lruNext[b]
        if previous >= 0 { lruNext[Int(previous)] = next } else { lruHead = next }
        if next >= 0 { lruPrevious[Int(next)] = previous } else { lruTail = previous }
        lruPrevious[b] = -1
        lruNext[b] = -1
        evictableCount -= 1
    }
}
