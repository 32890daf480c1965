/// Owns the block tables of the sequences in one `PagedKVCache`, in the style of vLLM's KV
/// cache manager: callers name a sequence by an id and ask for room (`allocateSlots`),
/// reuse of a cached prefix (`takeComputedPrefix`), rollback (`trim`) and release (`free`);
/// only the manager edits block tables and calls the block pool.
///
/// Running out of blocks is not an error: `allocateSlots` answers nil without allocating
/// anything, and the caller decides whom to preempt.
///
/// Every layer shares one block table per sequence today (one group of full-attention
/// layers). Layers with another attention pattern (a sliding window) become further groups
/// here, each with its own tables and its own rule for which blocks a sequence still needs;
/// the callers' interface stays per sequence.
final class KVCacheManager {
    let cache: PagedKVCache
    /// Block tables by sequence id; block `i` holds positions `i * blockSize ..< (i + 1) * blockSize`.
    private var tables: [Int: [Int32]] = [:]

    init(cache: PagedKVCache) {
        self.cache = cache
    }

    var blockSize: Int { cache.blockSize }
    var blockCount: Int { cache.blockCount }
    var pool: BlockPool { cache.blocks }

    /// Blocks needed to hold `tokens` tokens.
    func blocksNeeded(forTokens tokens: Int) -> Int { cache.blocksNeeded(forTokens: tokens) }

    /// The sequence's blocks (empty for an unknown id).
    func blockTable(of id: Int) -> [Int32] { tables[id] ?? [] }

    /// Sequences holding blocks.
    var sequenceCount: Int { tables.count }

    /// Grows the sequence's table to hold `tokens` tokens and returns it; nil, with nothing
    /// allocated, when the pool has too few blocks left.
    @discardableResult
    func allocateSlots(for id: Int, tokens: Int) -> [Int32]? {
        var table = tables[id] ?? []
        let missing = blocksNeeded(forTokens: tokens) - table.count
        guard missing > 0 else { return table }
        guard missing <= pool.freeBlockCount else { return nil }
        tables[id] = nil  // keep the array uniquely referenced while it grows
        for _ in 0..<missing { table.append(pool.allocate()!) }
        tables[id] = table
        return table
    }

    /// Starts a sequence that holds no blocks on the cached blocks of the longest cached
    /// prefix of `tokens` (whole blocks, always leaving the last token to compute, for its
    /// logits). Returns the number of tokens found cached, or nil when part of that prefix is
    /// being computed by another sequence in this step (try again next step).
    func takeComputedPrefix(for id: Int, tokens: [Int32]) -> Int? {
        precondition(tables[id]?.isEmpty ?? true, "sequence \(id) already holds blocks")
        let maxBlocks = (tokens.count - 1) / blockSize
        let (blocks, pending) = pool.lookup(tokens, blockSize: blockSize, maxBlocks: maxBlocks)
        if pending { return nil }
        for block in blocks { pool.retain(block) }
        tables[id] = blocks.isEmpty ? nil : blocks
        return blocks.count * blockSize
    }

    /// Registers the sequence's blocks that become full once `tokens[..<end]` are computed
    /// (those past `computed` tokens), so later sequences with the same prefix share them.
    /// They stay pending until `markStepComputed()`.
    func registerFullBlocks(for id: Int, tokens: [Int32], computed: Int, through end: Int) {
        guard let table = tables[id] else { return }
        let first = computed / blockSize
        let last = min(end, tokens.count, table.count * blockSize) / blockSize
        guard first < last else { return }
        for i in first..<last {
            pool.register(table[i], parent: i > 0 ? table[i - 1] : -1,
                          tokens: tokens[(i * blockSize)..<((i + 1) * blockSize)], computed: false)
        }
    }

    /// The step that computed the pending blocks has run.
    func markStepComputed() {
        pool.markStepComputed()
    }

    /// Releases the sequence's blocks beyond those holding its first `tokens` positions
    /// (speculative rollback).
    func trim(_ id: Int, toTokens tokens: Int) {
        guard var table = tables[id] else { return }
        let keep = blocksNeeded(forTokens: tokens)
        guard table.count > keep else { return }
        pool.release(table[keep...])
        table.removeLast(table.count - keep)
        tables[id] = table.isEmpty ? nil : table
    }

    /// Releases every block of the sequence; it holds none afterwards.
    func free(_ id: Int) {
        if let table = tables.removeValue(forKey: id) { pool.release(table) }
    }
}
