/// Causal grouped-query attention of one step's queries over a paged KV cache.
///
/// The work is split into items of (query tile, run of KV heads). A tile is up to
/// `tileTokens` consecutive tokens of one sequence in the batch (a prompt chunk, or the k+1
/// tokens a speculative step verifies); all of its query heads go over each cached block
/// together, so a block of keys or values is read from memory once per tile instead of once
/// per token and head. An item takes several KV heads when there are enough items to keep
/// the threads busy: a block's heads lie next to each other, so the item then reads one long
/// sequential run per block, which the memory system streams fastest. Items go round robin
/// to the threads: an item costs in proportion to its context length, so contiguous ranges
/// would leave one thread the long ones.
///
/// Every (token, head) is computed with the same arithmetic whatever its tile, item and
/// batch: its scores block by block in position order, a softmax over its own length, then
/// its weighted sum of values block by block. Tiling never changes a number.
public final class PagedAttention: @unchecked Sendable {
    public let configuration: ModelConfiguration
    /// Longest sequence it attends over.
    public let maxContext: Int
    /// Most tokens in one call.
    public let maxBatchTokens: Int
    /// The CPU path of the kernels.
    public let kernels: Kernels
    /// Most (token, head) query rows of one tile and KV head.
    static let tileRows = 16
    /// Most query rows one item handles (its scores live in thread scratch).
    let itemRows: Int
    /// `(T + 1)` first batch index of each tile, then the token count.
    private let tileStarts: UnsafeMutablePointer<Int32>
    /// `(threads, itemRows, maxContext)` attention weights of the item a thread works on.
    private let scores: UnsafeMutablePointer<Float>
    private let scoreBytes: Int

    /// Scratch for up to `maxBatchTokens` tokens per call, sequences up to `maxContext`
    /// positions, and `threadCount` threads.
    /// - Throws: `AllocationError` when the system refuses the scratch.
    public init(configuration: ModelConfiguration, maxBatchTokens: Int, maxContext: Int, threadCount: Int,
                kernels: Kernels = .default) throws {
        self.configuration = configuration
        self.kernels = kernels
        self.maxContext = maxContext
        self.maxBatchTokens = maxBatchTokens
        itemRows = Self.itemRows(configuration: configuration, maxContext: maxContext)
        // Backed only where used: a long-context model's rows need not all be touched.
        scoreBytes = threadCount * itemRows * maxContext * MemoryLayout<Float>.stride
        scores = try Memory.allocateZeroed(bytes: scoreBytes).bindMemory(to: Float.self, capacity: threadCount * itemRows * maxContext)
        tileStarts = .allocate(capacity: maxBatchTokens + 1)
    }

    /// Up to 64 rows (every head of a decode token in one item), fewer for long contexts;
    /// never fewer than one tile of one KV head: tileTokens · groupSize <= max(16, groupSize).
    static func itemRows(configuration: ModelConfiguration, maxContext: Int) -> Int {
        max(Self.tileRows, configuration.groupSize, min(64, (1 << 20) / max(1, maxContext)))
    }

    /// Bytes `init` allocates (saturating): the score rows of every thread and the tile starts.
    public static func scratchBytes(configuration: ModelConfiguration, maxBatchTokens: Int, maxContext: Int, threadCount: Int) -> Int {
        let rows = MemoryPlan.multiply(threadCount, itemRows(configuration: configuration, maxContext: maxContext))
        return MemoryPlan.add(MemoryPlan.multiply(MemoryPlan.multiply(rows, maxContext), 4), MemoryPlan.multiply(maxBatchTokens + 1, 4))
    }

    deinit {
        tileStarts.deallocate()
        Memory.deallocateZeroed(scores, bytes: scoreBytes)
    }

    /// Tokens of one sequence per tile.
    var tileTokens: Int { max(1, Self.tileRows / configuration.groupSize) }

    /// Writes `(T, queryDim)` attention outputs for the `(T, queryDim)` roped queries of
    /// `batch`, whose keys and values are already in `cache` at `layer`. With a `window`, a
    /// token at position p attends to positions `max(0, p - window + 1)...p` only (blocks
    /// before that are skipped; the cache keeps them, so prefixes and rollbacks stay exact).
    /// The pool must have at most the `threadCount` threads given at creation; positions
    /// must be below `maxContext` and the batch at most `maxBatchTokens` tokens.
    public func run(_ batch: TokenBatch, layer: Int, cache: PagedKVCache, queries: UnsafePointer<Float>,
                    into output: UnsafeMutablePointer<Float>, pool: ThreadPool, window: Int? = nil) {
        precondition(batch.tokenCount <= maxBatchTokens, "attention batch of \(batch.tokenCount) tokens (capacity \(maxBatchTokens))")
        let q = queries, kernels = kernels
        let f16 = cache.type == .f16
        let c = configuration
        let hd = c.headDimension, qDim = c.queryDimension, group = c.groupSize, kvHeads = c.kvHeadCount
        let scale = c.scoreScale
        let window = window ?? Int.max
        // First position a token at `position` attends to.
        @inline(__always) func lowest(_ position: Int) -> Int { window > position ? 0 : position - window + 1 }
        let blockSize = cache.blockSize, maxContext = maxContext, itemRows = itemRows
        let n = batch.tokenCount, tileTokens = tileTokens
        let tileStarts = tileStarts, scores = scores
        batch.positions.withUnsafeBufferPointer { positions in
        batch.sequences.withUnsafeBufferPointer { sequences in
        batch.blockIDs.withUnsafeBufferPointer { blockIDs in
        batch.tableOffsets.withUnsafeBufferPointer { offsets in
            var tileCount = 0, t = 0, longestTile = 1
            while t < n {
                tileStarts[tileCount] = Int32(t)
                var end = t + 1
                while end < n && end - t < tileTokens && sequences[end] == sequences[t] { end += 1 }
                longestTile = max(longestTile, end - t)
                tileCount += 1
                t = end
            }
            tileStarts[tileCount] = Int32(n)
            // KV heads per item: as many as the scratch rows allow while every thread still
            // gets at least four items.
            let byRows = max(1, itemRows / (longestTile * group))
            let byBalance = max(1, kvHeads * tileCount / (4 * pool.threadCount))
            let headsPerItem = min(kvHeads, byRows, byBalance)
            let chunks = (kvHeads + headsPerItem - 1) / headsPerItem

            pool.run(parts: tileCount * chunks) { item, thread in
                let itemScores = scores + thread * itemRows * maxContext  // (itemRows, maxContext)
                let tile = item / chunks
                let firstHead = (item % chunks) * headsPerItem, endHead = min(kvHeads, firstHead + headsPerItem)
                let first = Int(tileStarts[tile]), end = Int(tileStarts[tile + 1])
                let table = blockIDs.baseAddress! + Int(offsets[Int(sequences[first])])
                var longest = 0, earliest = Int.max
                for t in first..<end {
                    longest = max(longest, Int(positions[t]) + 1)
                    earliest = min(earliest, lowest(Int(positions[t])))
                }
                let firstStart = earliest / blockSize * blockSize
                // Row u of KV head h is token first + u / group, query head h * group + u % group.
                let rowCount = (end - first) * group
                func row(_ u: Int, _ h: Int) -> UnsafeMutablePointer<Float> {  // its scores
                    itemScores + ((u / group * (endHead - firstHead) + (h - firstHead)) * group + u % group) * maxContext
                }
                func query(_ u: Int, _ h: Int) -> UnsafePointer<Float> {
                    q + (first + u / group) * qDim + (h * group + u % group) * hd
                }
                func out(_ u: Int, _ h: Int) -> UnsafeMutablePointer<Float> {
                    output + (first + u / group) * qDim + (h * group + u % group) * hd
                }
                // Slots `skip..<end` of row u are visible in the block starting at position
                // `start` (causal, and inside the window); none when end <= skip.
                func slots(_ start: Int, _ u: Int) -> (skip: Int, end: Int) {
                    let position = Int(positions[first + u / group])
                    return (max(0, lowest(position) - start), min(blockSize, position + 1 - start))
                }
                // The item's part of a block is one contiguous run over its heads.
                let runBytes = (endHead - firstHead) * blockSize * hd * cache.type.byteCount

                // Visits the item's blocks in position order and, per KV head, the rows with
                // visible slots in each: four at a time where they see the same slots (every
                // full block) so they share each load. Scores are computed from slot 0 of a
                // block (`fromStart`: the kernels read whole slot groups; scores left of the
                // window are never used), values from the first visible slot. `next(start)` is
                // prefetched meanwhile: the next block is elsewhere in the pool, where the
                // hardware prefetchers don't look.
                @inline(__always)
                func forEachBlock(fromStart: Bool, prefetching next: (Int) -> UnsafeMutableRawPointer?,
                                  _ body: (_ block: Int, _ start: Int, _ h: Int, _ u: Int, _ four: Bool, _ skip: Int, _ rows: Int) -> Void) {
                    @inline(__always) func visible(_ start: Int, _ u: Int) -> (skip: Int, end: Int) {
                        let s = slots(start, u)
                        return s.end > s.skip && fromStart ? (0, s.end) : s
                    }
                    var start = firstStart
                    while start < longest {
                        let block = Int(table[start / blockSize])
                        if let address = next(start) { Memory.prefetch(address, bytes: runBytes) }
                        for h in firstHead..<endHead {
                            var u = 0
                            while u < rowCount {
                                let s = visible(start, u)
                                if s.end <= s.skip { u += 1; continue }
                                let four = u + 4 <= rowCount && visible(start, u + 1) == s && visible(start, u + 2) == s
                                    && visible(start, u + 3) == s
                                body(block, start, h, u, four, s.skip, s.end - s.skip)
                                u += four ? 4 : 1
                            }
                        }
                        start += blockSize
                    }
                }

                forEachBlock(fromStart: true, prefetching: { start in
                    start + blockSize < longest
                        ? cache.keys(layer: layer, block: Int(table[start / blockSize + 1]), kvHead: firstHead)
                        : cache.values(layer: layer, block: Int(table[firstStart / blockSize]), kvHead: firstHead)
                }) { block, start, h, u, four, _, rows in
                    let keys = UnsafeRawPointer(cache.keys(layer: layer, block: block, kvHead: h))
                    if four {
                        kernels.attentionScores4((query(u, h), query(u + 1, h), query(u + 2, h), query(u + 3, h)), keys: keys,
                                                  f16: f16, blockSize: blockSize, rows: rows, headDimension: hd, scale: scale,
                                                  into: (row(u, h) + start, row(u + 1, h) + start, row(u + 2, h) + start,
                                                         row(u + 3, h) + start))
                    } else {
                        kernels.attentionScores(query(u, h), keys: keys, f16: f16, blockSize: blockSize, rows: rows,
                                                 headDimension: hd, scale: scale, into: row(u, h) + start)
                    }
                }

                for h in firstHead..<endHead {
                    for u in 0..<rowCount {
                        let position = Int(positions[first + u / group]), low = lowest(position)
                        kernels.softmax(row(u, h) + low, count: position + 1 - low)
                        out(u, h).update(repeating: 0, count: hd)
                    }
                }

                forEachBlock(fromStart: false, prefetching: { start in
                    start + blockSize < longest
                        ? cache.values(layer: layer, block: Int(table[start / blockSize + 1]), kvHead: firstHead)
                        : nil
                }) { block, blockStart, h, u, four, skip, rows in
                    let values = UnsafeRawPointer(cache.values(layer: layer, block: block, kvHead: h)) + skip * hd * cache.type.byteCount
                    let start = blockStart + skip
                    if four {
                        kernels.attentionAccumulate4(values, f16: f16,
                                                      weights: (UnsafePointer(row(u, h) + start), UnsafePointer(row(u + 1, h) + start), UnsafePointer(row(u + 2, h) + start),
                                                                UnsafePointer(row(u + 3, h) + start)),
                                                      rows: rows, headDimension: hd,
                                                      into: (out(u, h), out(u + 1, h), out(u + 2, h), out(u + 3, h)))
                    } else {
                        kernels.attentionAccumulate(values, f16: f16, weights: UnsafePointer(row(u, h) + start), rows: rows, headDimension: hd,
                                                     into: out(u, h))
                    }
                }
            }
        }}}}
    }
}
