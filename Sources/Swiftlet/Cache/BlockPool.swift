/// Hands out KV-cache block ids and counts their users.
///
/// A block with no user goes back on the free list. Running out is not an error: `allocate`
/// answers nil and the scheduler decides whom to preempt.
public final class BlockPool: @unchecked Sendable {
    public let blockCount: Int
    /// Users of each block, `(blockCount)`.
    private var referenceCounts: [Int32]
    /// Blocks with no user, taken from the end.
    private var freeList: [Int32]

    init(blockCount: Int) {
        self.blockCount = blockCount
        referenceCounts = Array(repeating: 0, count: blockCount)
        freeList = (0..<Int32(blockCount)).reversed()
    }

    /// Blocks that can be allocated now.
    public var freeBlockCount: Int { freeList.count }
    /// Blocks in use by at least one sequence.
    public var usedBlockCount: Int { blockCount - freeList.count }

    /// A fresh block with one user, or nil when none is left.
    public func allocate() -> Int32? {
        guard let block = freeList.popLast() else { return nil }
        referenceCounts[Int(block)] = 1
        return block
    }

    /// Adds a user to `block` (a sequence sharing it).
    public func retain(_ block: Int32) {
        precondition(referenceCounts[Int(block)] > 0, "retain of free block \(block)")
        referenceCounts[Int(block)] += 1
    }

    /// Drops a user of `block`; the last one frees it.
    public func release(_ block: Int32) {
        precondition(referenceCounts[Int(block)] > 0, "double free of block \(block)")
        referenceCounts[Int(block)] -= 1
        if referenceCounts[Int(block)] == 0 { freeList.append(block) }
    }

    /// Drops a user of every block in `table`.
    public func release<C: Collection>(_ table: C) where C.Element == Int32 {
        for block in table { release(block) }
    }

    /// Users of `block`.
    public func referenceCount(_ block: Int32) -> Int { Int(referenceCounts[Int(block)]) }
}
