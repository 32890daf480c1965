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
    public init(configuration: ModelConfiguration, maxBatchTokens: Int, maxContext: Int, threadCount: Int) {
        self.configuration = configuration
        self.maxContext = maxContext
        self.maxBatchTokens = maxBatchTokens
        // Up to 64 rows (every head of a decode token in one item), fewer for long contexts.
        itemRows = max(Self.tileRows, min(64, (1 << 20) / max(1, maxContext)))
        tileStarts = .allocate(capacity: maxBatchTokens + 1)
        // Backed only where used: a long-context model's rows need not all be touched.
        scoreBytes = threadCount * itemRows * maxContext * MemoryLayout<Float>.stride
        scores = Memory.allocateZeroed(bytes: scoreBytes).bindMemory(to: Float.self, capacity: threadCount * itemRows * maxContext)
    }

    deinit {
        tileStarts.deallocate()
        Memory.deallocateZeroed(scores, bytes: scoreBytes)
    }

    /// Tokens of one sequence per tile.
    var tileTokens: Int { max(1, Self.tileRows / configuration.groupSize) }

    /// Writes `(T, queryDim)` attention outputs for the `(T, queryDim)` roped queries of
    /// `batch`, whose keys and values are already in `cache` at `layer`.
    /// The pool must have at most the `threadCount` threads given at creation; positions
    /// must be below `maxContext` and the batch at most `maxBatchTokens` tokens.
    public func run(_ batch: TokenBatch, layer: Int, cache: PagedKVCache, queries: UnsafePointer<Float>,
                    into output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        precondition(batch.tokenCount <= maxBatchTokens, "attention batch of \(batch.tokenCount) tokens (capacity \(maxBatchTokens))")
        switch cache.type {
        case .f32: run(batch, layer: layer, cache: cache, queries: queries, into: output, pool: pool, as: Float.self)
        case .f16: run(batch, layer: layer, cache: cache, queries: queries, into: output, pool: pool, as: Float16.self)
        }
    }

    private func run<Element: StoredFloat>(_ batch: TokenBatch, layer: Int, cache: PagedKVCache, queries q: UnsafePointer<Float>,
                                            into output: UnsafeMutablePointer<Float>, pool: ThreadPool, as _: Element.Type) {
        let c = configuration
        let hd = c.headDimension, qDim = c.queryDimension, group = c.groupSize, kvHeads = c.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
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

            pool.run { thread in
                let itemScores = scores + thread * itemRows * maxContext  // (itemRows, maxContext)
                for item in stride(from: thread, to: tileCount * chunks, by: pool.threadCount) {
                    let tile = item / chunks
                    let firstHead = (item % chunks) * headsPerItem, endHead = min(kvHeads, firstHead + headsPerItem)
                    let first = Int(tileStarts[tile]), end = Int(tileStarts[tile + 1])
                    let table = blockIDs.baseAddress! + Int(offsets[Int(sequences[first])])
                    var longest = 0
                    for t in first..<end { longest = max(longest, Int(positions[t]) + 1) }
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
                    // Valid slots of row u in the block starting at position `start` (causal).
                    func rowsIn(_ start: Int, _ u: Int) -> Int {
                        min(blockSize, Int(positions[first + u / group]) + 1 - start)
                    }
                    // The item's part of a block is one contiguous run over its heads.
                    let runBytes = (endHead - firstHead) * blockSize * hd * MemoryLayout<Element>.stride

                    // Visits the item's blocks in position order and, per KV head, the rows with
                    // slots in each: four at a time where they cover the same slots (every full
                    // block) so they share each load. `next(start)` is prefetched meanwhile: the
                    // next block is elsewhere in the pool, where the hardware prefetchers don't look.
                    @inline(__always)
                    func forEachBlock(prefetching next: (Int) -> UnsafeMutableRawPointer?,
                                      _ body: (_ block: Int, _ start: Int, _ h: Int, _ u: Int, _ four: Bool, _ rows: Int) -> Void) {
                        var start = 0
                        while start < longest {
                            let block = Int(table[start / blockSize])
                            if let address = next(start) { Memory.prefetch(address, bytes: runBytes) }
                            for h in firstHead..<endHead {
                                var u = 0
                                while u < rowCount {
                                    let rows = rowsIn(start, u)
                                    if rows <= 0 { u += 1; continue }
                                    let four = u + 4 <= rowCount && rowsIn(start, u + 1) == rows && rowsIn(start, u + 2) == rows
                                        && rowsIn(start, u + 3) == rows
                                    body(block, start, h, u, four, rows)
                                    u += four ? 4 : 1
                                }
                            }
                            start += blockSize
                        }
                    }

                    forEachBlock(prefetching: { start in
                        start + blockSize < longest
                            ? UnsafeMutableRawPointer(cache.keys(layer: layer, block: Int(table[start / blockSize + 1]), kvHead: firstHead, as: Element.self))
                            : UnsafeMutableRawPointer(cache.values(layer: layer, block: Int(table[0]), kvHead: firstHead, as: Element.self))
                    }) { block, start, h, u, four, rows in
                        let keys = UnsafePointer(cache.keys(layer: layer, block: block, kvHead: h, as: Element.self))
                        if four {
                            Self.scores4(query(u, h), query(u + 1, h), query(u + 2, h), query(u + 3, h), keys: keys, blockSize: blockSize,
                                         rows: rows, headDimension: hd, scale: scale,
                                         into: row(u, h) + start, row(u + 1, h) + start, row(u + 2, h) + start, row(u + 3, h) + start)
                        } else {
                            Self.scores(query(u, h), keys: keys, blockSize: blockSize, rows: rows, headDimension: hd, scale: scale,
                                        into: row(u, h) + start)
                        }
                    }

                    for h in firstHead..<endHead {
                        for u in 0..<rowCount {
                            VectorOps.softmax(row(u, h), count: Int(positions[first + u / group]) + 1)
                            out(u, h).update(repeating: 0, count: hd)
                        }
                    }

                    forEachBlock(prefetching: { start in
                        start + blockSize < longest
                            ? UnsafeMutableRawPointer(cache.values(layer: layer, block: Int(table[start / blockSize + 1]), kvHead: firstHead, as: Element.self))
                            : nil
                    }) { block, start, h, u, four, rows in
                        let values = UnsafePointer(cache.values(layer: layer, block: block, kvHead: h, as: Element.self))
                        if four {
                            Self.accumulate4(values, weights: row(u, h) + start, row(u + 1, h) + start, row(u + 2, h) + start,
                                             row(u + 3, h) + start, rows: rows, headDimension: hd,
                                             into: out(u, h), out(u + 1, h), out(u + 2, h), out(u + 3, h))
                        } else {
                            Self.accumulate(values, weights: row(u, h) + start, rows: rows, headDimension: hd, into: out(u, h))
                        }
                    }
                }
            }
        }}}}
    }

    /// `out[r] = scale · Σ_d q[d] · keys[d][r]` for the first `rows` slots of one block's keys,
    /// `(headDimension, blockSize)`. Sixteen slots per vector, four partial sums over `d`
    /// (d mod 4) added pairwise at the end; no horizontal sums.
    @inline(__always)
    static func scores<Element: StoredFloat>(_ q: UnsafePointer<Float>, keys: UnsafePointer<Element>, blockSize: Int, rows: Int,
                                              headDimension hd: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        var c = 0
        while c < rows {
            let lanes = min(16, rows - c)
            if blockSize % 16 == 0 {
                var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                var column = keys + c
                var d = 0
                while d + 4 <= hd {
                    a0.addProduct(SIMD16(repeating: q[d]), Element.load16(column))
                    a1.addProduct(SIMD16(repeating: q[d + 1]), Element.load16(column + blockSize))
                    a2.addProduct(SIMD16(repeating: q[d + 2]), Element.load16(column + 2 * blockSize))
                    a3.addProduct(SIMD16(repeating: q[d + 3]), Element.load16(column + 3 * blockSize))
                    column += 4 * blockSize
                    d += 4
                }
                while d < hd {
                    a0.addProduct(SIMD16(repeating: q[d]), Element.load16(column))
                    column += blockSize
                    d += 1
                }
                let sums = ((a0 + a1) + (a2 + a3)) * SIMD16(repeating: scale)
                if lanes == 16 {
                    UnsafeMutableRawPointer(out + c).storeBytes(of: sums, as: SIMD16<Float>.self)
                } else {
                    for i in 0..<lanes { out[c + i] = sums[i] }
                }
            } else {
                // Blocks of other sizes: the same sums one slot at a time.
                for r in c..<(c + lanes) {
                    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
                    var d = 0
                    while d + 4 <= hd {
                        s0.addProduct(q[d], Element.float(keys, d * blockSize + r))
                        s1.addProduct(q[d + 1], Element.float(keys, (d + 1) * blockSize + r))
                        s2.addProduct(q[d + 2], Element.float(keys, (d + 2) * blockSize + r))
                        s3.addProduct(q[d + 3], Element.float(keys, (d + 3) * blockSize + r))
                        d += 4
                    }
                    while d < hd {
                        s0.addProduct(q[d], Element.float(keys, d * blockSize + r))
                        d += 1
                    }
                    out[r] = ((s0 + s1) + (s2 + s3)) * scale
                }
            }
            c += 16
        }
    }

    /// `out += Σ_r weights[r] · values[r]` over the first `rows` slots of one block's values,
    /// `(blockSize, headDimension)`: sixteen dimensions per vector, even and odd slots in
    /// two partial sums added at the end.
    @inline(__always)
    static func accumulate<Element: StoredFloat>(_ values: UnsafePointer<Element>, weights: UnsafePointer<Float>, rows: Int,
                                                  headDimension hd: Int, into out: UnsafeMutablePointer<Float>) {
        var c = 0
        while c + 16 <= hd {
            var even = UnsafeRawPointer(out + c).loadUnaligned(as: SIMD16<Float>.self), odd = SIMD16<Float>()
            var r = 0
            while r + 2 <= rows {
                even.addProduct(SIMD16(repeating: weights[r]), Element.load16(values + r * hd + c))
                odd.addProduct(SIMD16(repeating: weights[r + 1]), Element.load16(values + (r + 1) * hd + c))
                r += 2
            }
            if r < rows { even.addProduct(SIMD16(repeating: weights[r]), Element.load16(values + r * hd + c)) }
            UnsafeMutableRawPointer(out + c).storeBytes(of: even + odd, as: SIMD16<Float>.self)
            c += 16
        }
        while c < hd {
            var even = out[c], odd: Float = 0
            var r = 0
            while r + 2 <= rows {
                even.addProduct(weights[r], Element.float(values, r * hd + c))
                odd.addProduct(weights[r + 1], Element.float(values, (r + 1) * hd + c))
                r += 2
            }
            if r < rows { even.addProduct(weights[r], Element.float(values, r * hd + c)) }
            out[c] = even + odd
            c += 1
        }
    }

    /// `scores` for four queries over the same keys, each key load shared: every query's
    /// sums are formed exactly as `scores` forms them (16 accumulators, four per query).
    @inline(__always)
    static func scores4<Element: StoredFloat>(_ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ q2: UnsafePointer<Float>,
                                               _ q3: UnsafePointer<Float>, keys: UnsafePointer<Element>, blockSize: Int, rows: Int,
                                               headDimension hd: Int, scale: Float,
                                               into o0: UnsafeMutablePointer<Float>, _ o1: UnsafeMutablePointer<Float>,
                                               _ o2: UnsafeMutablePointer<Float>, _ o3: UnsafeMutablePointer<Float>) {
        guard blockSize % 16 == 0 else {
            scores(q0, keys: keys, blockSize: blockSize, rows: rows, headDimension: hd, scale: scale, into: o0)
            scores(q1, keys: keys, blockSize: blockSize, rows: rows, headDimension: hd, scale: scale, into: o1)
            scores(q2, keys: keys, blockSize: blockSize, rows: rows, headDimension: hd, scale: scale, into: o2)
            scores(q3, keys: keys, blockSize: blockSize, rows: rows, headDimension: hd, scale: scale, into: o3)
            return
        }
        typealias V = SIMD16<Float>
        var c = 0
        while c < rows {
            var a00 = V(), a01 = V(), a02 = V(), a03 = V(), a10 = V(), a11 = V(), a12 = V(), a13 = V()
            var a20 = V(), a21 = V(), a22 = V(), a23 = V(), a30 = V(), a31 = V(), a32 = V(), a33 = V()
            var column = keys + c
            var d = 0
            while d + 4 <= hd {
                let k0 = Element.load16(column), k1 = Element.load16(column + blockSize)
                let k2 = Element.load16(column + 2 * blockSize), k3 = Element.load16(column + 3 * blockSize)
                a00.addProduct(V(repeating: q0[d]), k0); a01.addProduct(V(repeating: q0[d + 1]), k1)
                a02.addProduct(V(repeating: q0[d + 2]), k2); a03.addProduct(V(repeating: q0[d + 3]), k3)
                a10.addProduct(V(repeating: q1[d]), k0); a11.addProduct(V(repeating: q1[d + 1]), k1)
                a12.addProduct(V(repeating: q1[d + 2]), k2); a13.addProduct(V(repeating: q1[d + 3]), k3)
                a20.addProduct(V(repeating: q2[d]), k0); a21.addProduct(V(repeating: q2[d + 1]), k1)
                a22.addProduct(V(repeating: q2[d + 2]), k2); a23.addProduct(V(repeating: q2[d + 3]), k3)
                a30.addProduct(V(repeating: q3[d]), k0); a31.addProduct(V(repeating: q3[d + 1]), k1)
                a32.addProduct(V(repeating: q3[d + 2]), k2); a33.addProduct(V(repeating: q3[d + 3]), k3)
                column += 4 * blockSize
                d += 4
            }
            while d < hd {
                let k0 = Element.load16(column)
                a00.addProduct(V(repeating: q0[d]), k0); a10.addProduct(V(repeating: q1[d]), k0)
                a20.addProduct(V(repeating: q2[d]), k0); a30.addProduct(V(repeating: q3[d]), k0)
                column += blockSize
                d += 1
            }
            let scales = V(repeating: scale), lanes = min(16, rows - c)
            @inline(__always) func store(_ sums: V, _ out: UnsafeMutablePointer<Float>) {
                if lanes == 16 {
                    UnsafeMutableRawPointer(out + c).storeBytes(of: sums, as: V.self)
                } else {
                    for i in 0..<lanes { out[c + i] = sums[i] }
                }
            }
            store(((a00 + a01) + (a02 + a03)) * scales, o0)
            store(((a10 + a11) + (a12 + a13)) * scales, o1)
            store(((a20 + a21) + (a22 + a23)) * scales, o2)
            store(((a30 + a31) + (a32 + a33)) * scales, o3)
            c += 16
        }
    }

    /// `accumulate` for four weight rows over the same values, each value load shared; every
    /// output is summed exactly as `accumulate` sums it (even and odd slots apart).
    @inline(__always)
    static func accumulate4<Element: StoredFloat>(_ values: UnsafePointer<Element>, weights w0: UnsafePointer<Float>,
                                                   _ w1: UnsafePointer<Float>, _ w2: UnsafePointer<Float>, _ w3: UnsafePointer<Float>,
                                                   rows: Int, headDimension hd: Int,
                                                   into o0: UnsafeMutablePointer<Float>, _ o1: UnsafeMutablePointer<Float>,
                                                   _ o2: UnsafeMutablePointer<Float>, _ o3: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        guard hd % 16 == 0 else {
            accumulate(values, weights: w0, rows: rows, headDimension: hd, into: o0)
            accumulate(values, weights: w1, rows: rows, headDimension: hd, into: o1)
            accumulate(values, weights: w2, rows: rows, headDimension: hd, into: o2)
            accumulate(values, weights: w3, rows: rows, headDimension: hd, into: o3)
            return
        }
        @inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var c = 0
        while c < hd {
            var e0 = load(o0 + c), e1 = load(o1 + c), e2 = load(o2 + c), e3 = load(o3 + c)
            var d0 = V(), d1 = V(), d2 = V(), d3 = V()
            var r = 0
            while r + 2 <= rows {
                let even = Element.load16(values + r * hd + c), odd = Element.load16(values + (r + 1) * hd + c)
                e0.addProduct(V(repeating: w0[r]), even); d0.addProduct(V(repeating: w0[r + 1]), odd)
                e1.addProduct(V(repeating: w1[r]), even); d1.addProduct(V(repeating: w1[r + 1]), odd)
                e2.addProduct(V(repeating: w2[r]), even); d2.addProduct(V(repeating: w2[r + 1]), odd)
                e3.addProduct(V(repeating: w3[r]), even); d3.addProduct(V(repeating: w3[r + 1]), odd)
                r += 2
            }
            if r < rows {
                let even = Element.load16(values + r * hd + c)
                e0.addProduct(V(repeating: w0[r]), even); e1.addProduct(V(repeating: w1[r]), even)
                e2.addProduct(V(repeating: w2[r]), even); e3.addProduct(V(repeating: w3[r]), even)
            }
            UnsafeMutableRawPointer(o0 + c).storeBytes(of: e0 + d0, as: V.self)
            UnsafeMutableRawPointer(o1 + c).storeBytes(of: e1 + d1, as: V.self)
            UnsafeMutableRawPointer(o2 + c).storeBytes(of: e2 + d2, as: V.self)
            UnsafeMutableRawPointer(o3 + c).storeBytes(of: e3 + d3, as: V.self)
            c += 16
        }
    }
}
