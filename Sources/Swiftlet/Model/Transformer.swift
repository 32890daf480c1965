import Foundation

/// The decoder of every supported architecture: one layer recipe built from shared parts
/// (RMSNorm, projections with optional biases, optional QK-norm, RoPE on adjacent pairs or
/// split halves, grouped-query attention over a paged KV cache with an optional sliding
/// window, optional norms after each sublayer, a gated feed-forward layer with SiLU or
/// GELU), and the classifier for the rows that want logits. What differs between
/// architectures is data (`ModelConfiguration`, `LayerSpec`, the optional tensors of
/// `LayerWeights`), never a branch on the architecture's name.
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
    /// Positions beyond this are rejected by the engine (attention scratch size).
    public let maxContext: Int
    /// The longest context any transformer runs (its attention scratch is sized by it), whatever
    /// the model declares: the engine caps its context here.
    public static let positionLimit = 1 << 20
    /// Whether the weights stream from memory each step (past the last-level cache); the
    /// kernels then favour single sequential streams.
    public let weightsFromMemory: Bool
    /// The CPU path of the kernels.
    public let kernels: Kernels

    // Run state, llama2.c style. T = maxBatchTokens.
    private let x: UnsafeMutablePointer<Float>        // (T, dim) residual stream
    private let xb: ActivationBuffer                  // (T, dim) normed input of a sublayer
    private let xb2: UnsafeMutablePointer<Float>      // (T, dim) sublayer output
    private let q: UnsafeMutablePointer<Float>        // (T, queryDim)
    private let k: UnsafeMutablePointer<Float>        // (T, kvDim)
    private let v: UnsafeMutablePointer<Float>        // (T, kvDim)
    private let attention: ActivationBuffer           // (T, queryDim) attention output
    private let hb: ActivationBuffer                  // (T, hidden) gate, then SwiGLU output
    private let hb2: UnsafeMutablePointer<Float>      // (T, hidden) up
    private let attentionKernel: PagedAttention       // attention with its own scratch
    private let rotary: RotaryEmbedding               // the step's RoPE angles
    private let layerSpecs: [LayerSpec]               // (layers) what each layer does
    private let logitInput: ActivationBuffer          // (T, dim) normed rows that want logits
    private let logits: UnsafeMutablePointer<Float>   // (T, vocab)
    private let logitRows: UnsafeMutablePointer<Int32> // (T) batch index of each logit row
    private var allocations: [(UnsafeMutableRawPointer, Int)] = []

    /// Creates the decoder's run state.
    /// - Parameters:
    ///   - maxBatchTokens: most tokens in one `forward` step.
    ///   - maxContext: longest sequence (defaults to the model's context length).
    ///   - threadCount: compute threads, the caller included.
    ///   - kernels: the CPU path of the kernels (the default path unless given).
    /// - Throws: `AllocationError` when the system refuses the run state.
    public convenience init(weights: ModelWeights, maxBatchTokens: Int, maxContext: Int? = nil, threadCount: Int,
                            kernels: Kernels = .default) throws {
        try self.init(weights: weights, maxBatchTokens: maxBatchTokens, maxContext: maxContext, pool: ThreadPool(threadCount: threadCount),
                  kernels: kernels)
    }

    /// Creates the decoder's run state on an existing thread pool (a draft model shares the
    /// target's threads instead of oversubscribing the cores).
    /// `weightsFromMemory` overrides what the weights' size says (a draft model's weights
    /// are evicted from cache by its target's stream every cycle).
    public init(weights: ModelWeights, maxBatchTokens: Int, maxContext: Int? = nil, pool: ThreadPool, kernels: Kernels = .default,
                weightsFromMemory: Bool? = nil) throws {
        let c = weights.configuration
        self.kernels = kernels
        configuration = c
        self.weights = weights
        self.maxBatchTokens = max(1, maxBatchTokens)
        self.maxContext = max(1, min(maxContext ?? c.contextLength, Self.positionLimit))
        self.pool = pool
        self.weightsFromMemory = weightsFromMemory ?? MatrixMultiply.streamsFromMemory(weightBytesPerStep: weights.bytesPerToken)
        let t = self.maxBatchTokens
        var allocations: [(UnsafeMutableRawPointer, Int)] = []
        // An allocation the system refuses frees the ones before it and throws.
        var complete = false
        defer { if !complete { for (pointer, bytes) in allocations { Memory.deallocateZeroed(pointer, bytes: bytes) } } }
        func buffer<T>(_ count: Int, _: T.Type = Float.self) throws -> UnsafeMutablePointer<T> {
            let bytes = max(count, 1) * MemoryLayout<T>.stride + 64  // padded, zeroed, lazily backed
            let raw = try Memory.allocateZeroed(bytes: bytes)
            allocations.append((raw, bytes))
            return raw.bindMemory(to: T.self, capacity: count)
        }
        x = try buffer(t * c.dimension)
        xb = try ActivationBuffer(capacity: t, columns: c.dimension, formats: weights.inputFormats)
        xb2 = try buffer(t * c.dimension)
        q = try buffer(t * c.queryDimension)
        k = try buffer(t * c.kvDimension)
        v = try buffer(t * c.kvDimension)
        attention = try ActivationBuffer(capacity: t, columns: c.queryDimension, formats: weights.attentionOutputFormats)
        hb = try ActivationBuffer(capacity: t, columns: c.hiddenDimension, formats: weights.downFormats)
        hb2 = try buffer(t * c.hiddenDimension)
        attentionKernel = try PagedAttention(configuration: c, maxBatchTokens: t, maxContext: self.maxContext, threadCount: pool.threadCount,
                                         kernels: kernels)
        rotary = RotaryEmbedding(configuration: c, factors: weights.ropeFrequencyFactors, maxBatchTokens: t)
        layerSpecs = (0..<c.layerCount).map { c.layerSpec($0) }
        logitInput = try ActivationBuffer(capacity: t, columns: c.dimension, formats: [weights.classifier.format])
        logits = try buffer(t * c.vocabularySize)
        logitRows = try buffer(t, Int32.self)
        self.allocations = allocations
        complete = true
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
    /// `0...position` of its sequence, including earlier tokens of the same step (the last
    /// `window` of them in a sliding-window layer).
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
        if c.embeddingScale != 1 {
            for i in 0..<n * dim { x[i] *= c.embeddingScale }
        }
        batch.positions.withUnsafeBufferPointer { positions in
            for t in 0..<n {
                precondition(positions[t] >= 0 && Int(positions[t]) < maxContext, "position \(positions[t]) beyond context \(maxContext)")
            }
            rotary.prepare(positions: positions, count: n)
        }

        for (layerIndex, layer) in weights.layers.enumerated() {
            normRows(x, weight: layer.attentionNorm, into: xb.floats, rows: n)
            xb.prepare(rows: n, kernels: kernels, pool: pool)
            let qkvParts = parts(rows: layer.query.rows, work: Self.work(layer.query) + Self.work(layer.key) + Self.work(layer.value), tokens: n)
            pool.run(parts: qkvParts) { part, thread in
                project(xb, layer.query, into: q, rows: n, part: part, of: qkvParts, thread: thread)
                project(xb, layer.key, into: k, rows: n, part: part, of: qkvParts, thread: thread)
                project(xb, layer.value, into: v, rows: n, part: part, of: qkvParts, thread: thread)
            }
            addBias(layer.queryBias, to: q, rows: n, width: c.queryDimension)
            addBias(layer.keyBias, to: k, rows: n, width: c.kvDimension)
            addBias(layer.valueBias, to: v, rows: n, width: c.kvDimension)
            if let norm = layer.queryNorm { normRows(q, weight: norm, into: q, rows: n * c.headCount, width: c.headDimension) }
            if let norm = layer.keyNorm { normRows(k, weight: norm, into: k, rows: n * c.kvHeadCount, width: c.headDimension) }
            storeKeysAndValues(batch, layer: layerIndex, cache: cache)
            attentionKernel.run(batch, layer: layerIndex, cache: cache, queries: q, into: attention.floats, pool: pool,
                                window: layerSpecs[layerIndex].slidingWindow)
            attention.prepare(rows: n, kernels: kernels, pool: pool)
            project(attention, layer.output, into: xb2, rows: n)
            addBias(layer.outputBias, to: xb2, rows: n, width: dim)
            if let norm = layer.postAttentionNorm { normRows(xb2, weight: norm, into: xb2, rows: n) }
            kernels.add(xb2, to: x, count: n * dim)

            normRows(x, weight: layer.ffnNorm, into: xb.floats, rows: n)
            xb.prepare(rows: n, kernels: kernels, pool: pool)
            let activation = c.activation
            let ffnParts = parts(rows: hidden, work: Self.work(layer.gate) + Self.work(layer.up), tokens: n)
            pool.run(parts: ffnParts) { part, thread in
                let columns = pool.partition(hidden, part: part, of: ffnParts, granularity: 16)
                multiply(xb, layer.gate, into: hb.floats, rows: n, share: columns, thread: thread)
                multiply(xb, layer.up, into: hb2, rows: n, share: columns, thread: thread)
                for t in 0..<n {
                    let gate = hb.floats + t * hidden + columns.lowerBound, up = hb2 + t * hidden + columns.lowerBound
                    switch activation {
                    case .silu: kernels.swiGLU(gate, up: up, count: columns.count)
                    case .geluTanh: kernels.geGLU(gate, up: up, count: columns.count)
                    }
                }
            }
            hb.prepare(rows: n, kernels: kernels, pool: pool)
            project(hb, layer.down, into: xb2, rows: n)
            if let norm = layer.postFeedForwardNorm { normRows(xb2, weight: norm, into: xb2, rows: n) }
            kernels.add(xb2, to: x, count: n * dim)
        }

        // Classifier, only for the rows that want logits.
        var rowCount = 0
        batch.wantsLogits.withUnsafeBufferPointer { wants in
            for t in 0..<n where wants[t] {
                kernels.rmsNorm(x + t * dim, weight: weights.outputNorm, epsilon: c.rmsNormEpsilon, into: logitInput.floats + rowCount * dim, count: dim)
                logitRows[rowCount] = Int32(t)
                rowCount += 1
            }
        }
        if rowCount > 0 {
            let rows = rowCount
            logitInput.prepare(rows: rows, kernels: kernels, pool: pool)
            project(logitInput, weights.classifier, into: logits, rows: rows)
            if let cap = c.logitSoftcap {
                for i in 0..<rows * c.vocabularySize { logits[i] = cap * tanh(logits[i] / cap) }
            }
        }
        return Logits(pointer: logits, rowCount: rowCount, vocabularySize: c.vocabularySize)
    }

    /// RMSNorm of `rows` rows of `width` (the model dimension unless given); `into` may be `x`.
    @inline(__always)
    private func normRows(_ x: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                          rows: Int, width: Int? = nil) {
        let width = width ?? configuration.dimension, epsilon = configuration.rmsNormEpsilon
        for r in 0..<rows { kernels.rmsNorm(x + r * width, weight: weight, epsilon: epsilon, into: out + r * width, count: width) }
    }

    /// Adds `bias` `(width)`, when the layer has one, to each of `rows` rows of `width`.
    @inline(__always)
    private func addBias(_ bias: UnsafePointer<Float>?, to y: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        guard let bias else { return }
        for r in 0..<rows { kernels.add(bias, to: y + r * width, count: width) }
    }

    /// Work (`work(_:)`) times tokens below which a part is not worth handing to another
    /// thread: a tiny draft model's matrices (32-256 KiB) then run on fewer threads, or on the
    /// caller alone, instead of paying a cross-core hand-off for a microsecond of work.
    static let minimumPartWork = 64 << 10

    /// The work of multiplying one token by `w`, in bytes of F16 weights: its bytes, but at
    /// least two a weight, since a block format unpacks every weight (a Q4_0 matrix of the
    /// shipped target's width, 83 KB, would otherwise run on one thread).
    @inline(__always)
    static func work(_ w: WeightMatrix) -> Int { max(w.byteCount, 2 * w.rows * w.columns) }

    /// Parts of a region over `rows` weight rows (multiples of 16) doing `work` (`work(_:)`)
    /// for each of `tokens` token rows; how many a thread takes is the kernel layer's call.
    @inline(__always)
    private func parts(rows: Int, work: Int, tokens: Int) -> Int {
        let perThread = MatrixMultiply.partsPerThread(rows: tokens, fromMemory: weightsFromMemory)
        return min(pool.parts(rows, granularity: 16, perThread: perThread), max(1, work * tokens / Self.minimumPartWork))
    }

    /// `y = x · wᵀ` for `rows` activation rows, over the pool.
    @inline(__always)
    private func project(_ input: ActivationBuffer, _ w: WeightMatrix, into output: UnsafeMutablePointer<Float>, rows: Int) {
        let parts = parts(rows: w.rows, work: Self.work(w), tokens: rows)
        pool.run(parts: parts) { part, thread in
            project(input, w, into: output, rows: rows, part: part, of: parts, thread: thread)
        }
    }

    /// Part `part` of `parts` of `y = x · wᵀ` for `rows` activation rows (a range of weight rows).
    @inline(__always)
    private func project(_ input: ActivationBuffer, _ w: WeightMatrix, into output: UnsafeMutablePointer<Float>, rows: Int,
                         part: Int, of parts: Int, thread: Int) {
        let share = pool.partition(w.rows, part: part, of: parts, granularity: 16)
        multiply(input, w, into: output, rows: rows, share: share, thread: thread)
    }

    /// Weight rows `share` of `y = x · wᵀ`; the kernel layer picks the walk for `w`'s format.
    @inline(__always)
    private func multiply(_ input: ActivationBuffer, _ w: WeightMatrix, into output: UnsafeMutablePointer<Float>, rows: Int,
                          share: Range<Int>, thread: Int) {
        MatrixMultiply.multiply(input, w, into: output, m: rows, share: share, scratch: pool.scratch(thread), fromMemory: weightsFromMemory,
                                kernels: kernels)
    }

    /// Applies RoPE to the step's queries and keys, and writes keys and values into the cache.
    private func storeKeysAndValues(_ batch: TokenBatch, layer: Int, cache: PagedKVCache) {
        let c = configuration
        let hd = c.headDimension, qDim = c.queryDimension, kvDim = c.kvDimension
        batch.positions.withUnsafeBufferPointer { positions in
        batch.sequences.withUnsafeBufferPointer { sequences in
        batch.blockIDs.withUnsafeBufferPointer { blockIDs in
        batch.tableOffsets.withUnsafeBufferPointer { offsets in
            for t in 0..<batch.tokenCount {
                let position = Int(positions[t])
                rotary.rotate(q + t * qDim, heads: c.headCount, headDimension: hd, token: t, layer: layer)
                rotary.rotate(k + t * kvDim, heads: c.kvHeadCount, headDimension: hd, token: t, layer: layer)
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
