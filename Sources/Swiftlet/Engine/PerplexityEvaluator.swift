import Foundation

/// Measures a model's perplexity on a token sequence, by the protocol of the Python trainer's
/// evaluation (`Models/train/EVAL.md`) and of llama.cpp's `llama-perplexity`:
///
/// 1. the text's ids (tokenized without BOS) are cut into consecutive, non-overlapping chunks
///    of `context - 1` ids, the last one shorter;
/// 2. each chunk is prefixed with BOS, so a window has at most `context` tokens;
/// 3. each window runs as one batched forward from an empty KV cache (positions from 0), and
///    every token after the BOS is scored from all tokens before it in its window, with a
///    full log-softmax over the vocabulary in Double.
///
/// Every text token is thus scored exactly once. Not thread-safe: one evaluation at a time.
public final class PerplexityEvaluator {
    /// Most tokens in one window, BOS included.
    public let context: Int
    public let configuration: ModelConfiguration

    private let transformer: Transformer
    private let cache: PagedKVCache
    /// The KV blocks every window reuses: a window writes positions `0..<n` before reading them.
    private let blockTable: [Int32]
    private var batch = TokenBatch()
    /// Negative log-likelihood of each scored position of the current window, `(context)`.
    private var rowLosses: [Double]

    /// - Parameters:
    ///   - context: tokens per window, BOS included; 2 through the model's context length.
    ///   - threadCount: compute threads, the caller included.
    ///   - maxMemoryBytes: refuse (`MemoryPlanError`) when the run state and the weights
    ///     need more; the machine's available memory is checked in any case.
    /// - Throws: `PerplexityError` for a context out of range.
    public init(weights: ModelWeights, context: Int, threadCount: Int, kernels: Kernels = .default, maxMemoryBytes: Int? = nil) throws {
        let configuration = weights.configuration
        guard context >= 2 else { throw PerplexityError.contextTooSmall(context) }
        guard context <= min(configuration.contextLength, Transformer.positionLimit) else {
            throw PerplexityError.contextTooLarge(context: context, modelContext: min(configuration.contextLength, Transformer.positionLimit))
        }
        self.context = context
        self.configuration = configuration
        try MemoryPlan(weights: weights, batchTokens: context, context: context, threads: threadCount, kvCacheTokens: context + 16,
                       kvCacheType: .f32, sequences: 0).check(limitBytes: maxMemoryBytes)
        transformer = try Transformer(weights: weights, maxBatchTokens: context, maxContext: context, threadCount: threadCount, kernels: kernels)
        let blockSize = 16
        let cache = try PagedKVCache(configuration: configuration, blockSize: blockSize, blockCount: (context + blockSize - 1) / blockSize)
        self.cache = cache
        // Sized for one window: the whole pool is this one sequence's.
        blockTable = KVCacheManager(cache: cache).allocateSlots(for: 0, tokens: cache.tokenCapacity)!
        rowLosses = Array(repeating: 0, count: context)
    }

    /// The windows of `ids`: BOS followed by consecutive chunks of `context - 1` ids, the last
    /// chunk whatever is left. Empty for empty `ids`.
    public static func windows(of ids: [Int32], bos: Int32, context: Int) -> [[Int32]] {
        let step = max(1, context - 1)
        return stride(from: 0, to: ids.count, by: step).map { start in
            [bos] + ids[start..<min(start + step, ids.count)]
        }
    }

    /// Number of windows `windows(of:bos:context:)` makes of `tokenCount` ids.
    public static func windowCount(tokenCount: Int, context: Int) -> Int {
        let step = max(1, context - 1)
        return (tokenCount + step - 1) / step
    }

    /// Runs one window (BOS first, at most `context` tokens, ids inside the vocabulary) and
    /// returns the summed negative log-likelihood of its tokens after the first, and their count.
    /// With `firstScored` p > 0 only the tokens after position p count (those predicted from p on).
    public func score(window: [Int32], firstScored: Int = 0) -> (negativeLogLikelihood: Double, count: Int) {
        precondition(window.count <= context, "window of \(window.count) tokens (context \(context))")
        guard window.count >= 2 else { return (0, 0) }
        let scored = window.count - 1
        batch.removeAll()
        let sequence = batch.addSequence(blockTable: blockTable)
        // The last token predicts nothing inside the window: no logits for it.
        for (position, token) in window.enumerated() {
            batch.append(token: token, position: position, sequence: sequence, wantsLogits: position < scored)
        }
        let logits = transformer.forward(batch, cache: cache)
        let pool = transformer.pool
        rowLosses.withUnsafeMutableBufferPointer { losses in
            window.withUnsafeBufferPointer { tokens in
                let parts = pool.parts(scored)
                pool.run(parts: parts) { part, _ in
                    for row in pool.partition(scored, part: part, of: parts) {
                        losses[row] = Self.negativeLogSoftmax(logits.row(row), at: Int(tokens[row + 1]))
                    }
                }
            }
        }
        var total = 0.0
        let first = min(max(0, firstScored), scored)
        for row in first..<scored { total += rowLosses[row] }
        return (total, scored - first)
    }

    /// llama.cpp's `llama-perplexity` protocol, for comparing with it: `ids` (the text's
    /// tokens, without BOS) are prefixed with BOS and cut into `ids.count + 1` / context full
    /// windows (the rest dropped); each window's first token is replaced by BOS, and only the
    /// tokens predicted from positions context/2 ..< context - 1 are scored.
    /// - Throws: as `evaluate`, and `PerplexityError.emptyText` when no full window fits.
    public func evaluateAsLlamaCpp(ids: [Int32], bos: Int32) throws -> PerplexityResult {
        let all = [bos] + ids
        guard all.count >= context else { throw PerplexityError.emptyText }
        let vocabularySize = configuration.vocabularySize
        if let bad = all.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw PerplexityError.tokenOutOfVocabulary(id: bad, vocabularySize: vocabularySize)
        }
        var result = PerplexityResult(context: context)
        for start in stride(from: 0, through: all.count - context, by: context) {
            var window = Array(all[start..<(start + context)])
            window[0] = bos
            let clock = MonotonicClock.now()
            let (loss, count) = score(window: window, firstScored: context / 2)
            result.seconds += MonotonicClock.now() - clock
            result.negativeLogLikelihood += loss
            result.tokenCount += count
            result.processedTokens += window.count
            result.windowCount += 1
        }
        return result
    }

    /// Evaluates `ids` (the text's tokens, without BOS).
    /// - Parameter progress: called after every window with the window's index, the window
    ///   count and the result so far.
    /// - Throws: `PerplexityError.emptyText` for no ids, `.tokenOutOfVocabulary` for an id
    ///   the model cannot embed (BOS included).
    public func evaluate(ids: [Int32], bos: Int32,
                         progress: (_ window: Int, _ windowCount: Int, _ soFar: PerplexityResult) -> Void = { _, _, _ in }) throws -> PerplexityResult {
        guard !ids.isEmpty else { throw PerplexityError.emptyText }
        let vocabularySize = configuration.vocabularySize
        if let bad = ([bos] + ids).first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw PerplexityError.tokenOutOfVocabulary(id: bad, vocabularySize: vocabularySize)
        }
        let windows = Self.windows(of: ids, bos: bos, context: context)
        var result = PerplexityResult(context: context)
        for (index, window) in windows.enumerated() {
            let start = MonotonicClock.now()
            let (loss, count) = score(window: window)
            result.seconds += MonotonicClock.now() - start
            result.negativeLogLikelihood += loss
            result.tokenCount += count
            result.processedTokens += window.count
            result.windowCount += 1
            progress(index, windows.count, result)
        }
        return result
    }

    /// `-ln softmax(logits)[target]`, computed in Double.
    static func negativeLogSoftmax(_ logits: UnsafeMutableBufferPointer<Float>, at target: Int) -> Double {
        var maximum = -Float.infinity
        for value in logits { maximum = max(maximum, value) }
        let shift = Double(maximum)
        var sum = 0.0
        for value in logits { sum += exp(Double(value) - shift) }
        return -(Double(logits[target]) - shift - log(sum))
    }
}
