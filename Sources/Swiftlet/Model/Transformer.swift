import Foundation

/// The Llama decoder: RMSNorm, RoPE on adjacent pairs, grouped-query attention over a paged
/// KV cache, SwiGLU, and the classifier for the rows that want logits.
///
/// One entry point, `forward(_:cache:)`, for every kind of step. Linear layers see the
/// step's tokens as one `(tokens, dim)` matrix, so weights are read once per step for all
/// sequences; attention (`PagedAttention`) reads each sequence's cached blocks once per
/// step. Scratch is allocated once, for `maxBatchTokens`; `forward` allocates nothing.
public final class Transformer: @unchecked Sendable {
    public let configuration: ModelConfiguration
    public let weights: ModelWeights
    public let pool: ThreadPool
    /// Most tokens one step may carry.
    public let maxBatchTokens: Int
    /// Positions beyond this are rejected by the engine (RoPE table and attention scratch size).
    public let maxContext: Int
    /// Batch sizes whose weights stream one row at a time: up to 8 when the weights cannot
    /// stay in the 32 MB L3 cache between steps (they come from DRAM), else 2.
    public let streamingRows: Int
    /// Whether tiles copy each weight block to thread scratch first (weights from DRAM).
    public let stagesWeights: Bool
    /// Batch sizes up to which tiles stage weights: from 64 rows on, the tiles' own reads
    /// keep up and the copy only costs (64-stream stories110M decode 4.5% faster without it).
    static let stagingRows = 32
    /// Batch sizes from which tiles widen each F16 weight block once into scratch rather
    /// than at every load (32-token prompts on the shipped model: 1-2 ms sooner without).
    static let widenedRows = 64

    // Run state, llama2.c style. T = maxBatchTokens.
    private let x: UnsafeMutablePointer<Float>        // (T, dim) residual stream
    private let xb: UnsafeMutablePointer<Float>       // (T, dim) normed input of a sublayer
    private let xb2: UnsafeMutablePointer<Float>      // (T, dim) sublayer output
    private let q: UnsafeMutablePointer<Float>        // (T, queryDim)
    private let k: UnsafeMutablePointer<Float>        // (T, kvDim)
    private let v: UnsafeMutablePointer<Float>        // (T, kvDim)
    private let attention: UnsafeMutablePointer<Float> // (T, queryDim) attention output
    private let hb: UnsafeMutablePointer<Float>       // (T, hidden) gate, then SwiGLU output
    private let hb2: UnsafeMutablePointer<Float>      // (T, hidden) up
    private let attentionKernel: PagedAttention       // attention with its own scratch
    private let ropeCos: UnsafeMutablePointer<Float>  // (maxContext, headDim / 2)
    private let ropeSin: UnsafeMutablePointer<Float>  // (maxContext, headDim / 2)
    private let logitInput: UnsafeMutablePointer<Float> // (T, dim) normed rows that want logits
    private let logits: UnsafeMutablePointer<Float>   // (T, vocab)
    private let logitRows: UnsafeMutablePointer<Int32> // (T) batch index of each logit row
    private var allocations: [(UnsafeMutableRawPointer, Int)] = []

    /// Creates the decoder's run state.
    /// - Parameters:
    ///   - maxBatchTokens: most tokens in one `forward` step.
    ///   - maxContext: longest sequence (defaults to the model's context length).
    ///   - threadCount: compute threads, the caller included.
    public convenience init(weights: ModelWeights, maxBatchTokens: Int, maxContext: Int? = nil, threadCount: Int) {
        self.init(weights: weights, maxBatchTokens: maxBatchTokens, maxContext: maxContext, pool: ThreadPool(threadCount: threadCount))
    }

    /// Creates the decoder's run state on an existing thread pool (a draft model shares the
    /// target's threads instead of oversubscribing the cores).
    public init(weights: ModelWeights, maxBatchTokens: Int, maxContext: Int? = nil, pool: ThreadPool) {
        let c = weights.configuration
        configuration = c
        self.weights = weights
        self.maxBatchTokens = max(1, maxBatchTokens)
        self.maxContext = max(1, min(maxContext ?? c.contextLength, 1 << 20))
        self.pool = pool
        let fromMemory = weights.bytesPerToken > 32 << 20
        streamingRows = fromMemory ? 8 : MatrixMultiply.defaultStreamingRows
        stagesWeights = fromMemory
        let t = self.maxBatchTokens
        var allocations: [(UnsafeMutableRawPointer, Int)] = []
        func buffer<T>(_ count: Int, _: T.Type = Float.self) -> UnsafeMutablePointer<T> {
            let bytes = max(count, 1) * MemoryLayout<T>.stride + 64  // padded, zeroed, lazily backed
            let raw = Memory.allocateZeroed(bytes: bytes)
            allocations.append((raw, bytes))
            return raw.bindMemory(to: T.self, capacity: count)
        }
        x = buffer(t * c.dimension)
        xb = buffer(t * c.dimension)
        xb2 = buffer(t * c.dimension)
        q = buffer(t * c.queryDimension)
        k = buffer(t * c.kvDimension)
        v = buffer(t * c.kvDimension)
        attention = buffer(t * c.queryDimension)
        hb = buffer(t * c.hiddenDimension)
        hb2 = buffer(t * c.hiddenDimension)
        attentionKernel = PagedAttention(configuration: c, maxBatchTokens: t, maxContext: self.maxContext, threadCount: pool.threadCount)
        ropeCos = buffer(self.maxContext * c.headDimension / 2)
        ropeSin = buffer(self.maxContext * c.headDimension / 2)
        logitInput = buffer(t * c.dimension)
        logits = buffer(t * c.vocabularySize)
        logitRows = buffer(t, Int32.self)
        self.allocations = allocations
        let half = c.headDimension / 2
        for position in 0..<self.maxContext {
            for i in 0..<half {
                let theta = pow(Double(c.ropeFrequencyBase), -2.0 * Double(i) / Double(c.headDimension))
                let angle = Double(position) * theta
                ropeCos[position * half + i] = Float(cos(angle))
                ropeSin[position * half + i] = Float(sin(angle))
            }
        }
    }

    deinit {
        for (pointer, bytes) in allocations { Memory.deallocateZeroed(pointer, bytes: bytes) }
    }

    /// Runs one step: appends every token's keys and values to its sequence's blocks in
    /// `cache` and returns logits for the tokens that want them.
    ///
    /// Preconditions (the engine checks them): `batch.tokenCount <= maxBatchTokens`, token
    /// ids below the vocabulary size, positions below `maxContext`, and every sequence's
    /// block table long enough for its positions. A token attends to positions
    /// `0...position` of its sequence, including earlier tokens of the same step.
    public func forward(_ batch: TokenBatch, cache: PagedKVCache) -> Logits {
        let c = configuration
        let n = batch.tokenCount
        precondition(n > 0 && n <= maxBatchTokens, "batch of \(n) tokens (capacity \(maxBatchTokens))")
        let dim = c.dimension, hidden = c.hiddenDimension

        batch.tokens.withUnsafeBufferPointer { tokens in
            for t in 0..<n {
                let id = Int(tokens[t])
                precondition(id >= 0 && id < c.vocabularySize, "token id \(id) out of range")
                weights.tokenEmbedding.copyRow(id, into: x + t * dim)
            }
        }

        for (layerIndex, layer) in weights.layers.enumerated() {
            for t in 0..<n {
                VectorOps.rmsNorm(x + t * dim, weight: layer.attentionNorm, epsilon: c.rmsNormEpsilon, into: xb + t * dim, count: dim)
            }
            pool.run { thread in
                project(xb, layer.query, into: q, rows: n, thread: thread)
                project(xb, layer.key, into: k, rows: n, thread: thread)
                project(xb, layer.value, into: v, rows: n, thread: thread)
            }
            storeKeysAndValues(batch, layer: layerIndex, cache: cache)
            attentionKernel.run(batch, layer: layerIndex, cache: cache, queries: q, into: attention, pool: pool)
            pool.run { thread in project(attention, layer.output, into: xb2, rows: n, thread: thread) }
            VectorOps.add(xb2, to: x, count: n * dim)

            for t in 0..<n {
                VectorOps.rmsNorm(x + t * dim, weight: layer.ffnNorm, epsilon: c.rmsNormEpsilon, into: xb + t * dim, count: dim)
            }
            pool.run { thread in
                let columns = pool.partition(hidden, index: thread, granularity: 16)
                multiply(xb, layer.gate, into: hb, rows: n, share: columns, thread: thread)
                multiply(xb, layer.up, into: hb2, rows: n, share: columns, thread: thread)
                for t in 0..<n {
                    VectorOps.swiGLU(hb + t * hidden + columns.lowerBound, up: hb2 + t * hidden + columns.lowerBound, count: columns.count)
                }
            }
            pool.run { thread in project(hb, layer.down, into: xb2, rows: n, thread: thread) }
            VectorOps.add(xb2, to: x, count: n * dim)
        }

        // Classifier, only for the rows that want logits.
        var rowCount = 0
        batch.wantsLogits.withUnsafeBufferPointer { wants in
            for t in 0..<n where wants[t] {
                VectorOps.rmsNorm(x + t * dim, weight: weights.outputNorm, epsilon: c.rmsNormEpsilon, into: logitInput + rowCount * dim, count: dim)
                logitRows[rowCount] = Int32(t)
                rowCount += 1
            }
        }
        if rowCount > 0 {
            let rows = rowCount
            pool.run { thread in project(logitInput, weights.classifier, into: logits, rows: rows, thread: thread) }
        }
        return Logits(pointer: logits, rowCount: rowCount, vocabularySize: c.vocabularySize)
    }

    /// One thread's share of `y = x · wᵀ` for `rows` activation rows.
    @inline(__always)
    private func project(_ input: UnsafePointer<Float>, _ w: WeightMatrix, into output: UnsafeMutablePointer<Float>, rows: Int, thread: Int) {
        let share = pool.partition(w.rows, index: thread, granularity: 16)
        multiply(input, w, into: output, rows: rows, share: share, thread: thread)
    }

    /// Weight rows `share` of `y = x · wᵀ`, in `w`'s format. Tiles stage (copy) each weight
    /// block in thread scratch first when weights come from DRAM at small batches, and F16
    /// from `widenedRows` on, widened once per block instead of once per row group.
    @inline(__always)
    private func multiply(_ input: UnsafePointer<Float>, _ w: WeightMatrix, into output: UnsafeMutablePointer<Float>, rows: Int,
                          share: Range<Int>, thread: Int) {
        let staging = (w.format == .f16 && rows >= Self.widenedRows) || (stagesWeights && rows <= Self.stagingRows) ? pool.scratch(thread) : nil
        switch w.format {
        case .f32:
            MatrixMultiply.multiplyRange(input, w.elements.assumingMemoryBound(to: Float.self), output, m: rows, n: w.rows, k: w.columns,
                                         rows: share, streamingRows: streamingRows, staging: staging)
        case .f16:
            MatrixMultiply.multiplyRange(input, w.elements.assumingMemoryBound(to: Float16.self), output, m: rows, n: w.rows, k: w.columns,
                                         rows: share, streamingRows: streamingRows, staging: staging)
        }
    }

    /// Applies RoPE to the step's queries and keys, and writes keys and values into the cache.
    private func storeKeysAndValues(_ batch: TokenBatch, layer: Int, cache: PagedKVCache) {
        let c = configuration
        let hd = c.headDimension, half = hd / 2, qDim = c.queryDimension, kvDim = c.kvDimension
        batch.positions.withUnsafeBufferPointer { positions in
        batch.sequences.withUnsafeBufferPointer { sequences in
        batch.blockIDs.withUnsafeBufferPointer { blockIDs in
        batch.tableOffsets.withUnsafeBufferPointer { offsets in
            for t in 0..<batch.tokenCount {
                let position = Int(positions[t])
                precondition(position >= 0 && position < maxContext, "position \(position) beyond context \(maxContext)")
                let cosRow = ropeCos + position * half, sinRow = ropeSin + position * half
                for head in 0..<c.headCount {
                    VectorOps.rope(q + t * qDim + head * hd, cos: cosRow, sin: sinRow, headDimension: hd)
                }
                for head in 0..<c.kvHeadCount {
                    VectorOps.rope(k + t * kvDim + head * hd, cos: cosRow, sin: sinRow, headDimension: hd)
                }
                let sequence = Int(sequences[t])
                let tableIndex = Int(offsets[sequence]) + position / cache.blockSize
                precondition(tableIndex < Int(offsets[sequence + 1]), "block table too short for position \(position)")
                let block = Int(blockIDs[tableIndex])
                let slot = position % cache.blockSize
                cache.store(keys: k + t * kvDim, values: v + t * kvDim, layer: layer, block: block, slot: slot)
            }
        }}}}
    }
}
