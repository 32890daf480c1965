/// Measured seconds of a forward step by token count, interpolated linearly between the
/// measured sizes (and extrapolated from the last two). Measured once at engine start, then
/// kept current by the steps the engine runs (`observe`), so it follows the context the
/// requests have built up and how busy the machine is.
struct CostTable {
    private var sizes: [Int] = []
    private var seconds: [Double] = []

    var isEmpty: Bool { sizes.isEmpty }

    init() {}

    /// A table from known measurements.
    init(sizes: [Int], seconds: [Double]) {
        self.sizes = sizes
        self.seconds = seconds
    }

    /// Times `transformer` on steps of each size (one sequence of that many tokens, best of 3),
    /// on blocks it borrows from `kv` and gives back.
    static func measure(_ transformer: Transformer, kv: KVCacheManager, sizes: [Int]) -> CostTable {
        var table = CostTable()
        let usable = sizes.filter { $0 <= transformer.maxBatchTokens && $0 < transformer.maxContext }
        guard let largest = usable.last else { return table }
        let sequence = Self.sequenceID
        defer { kv.free(sequence) }
        guard let blocks = kv.allocateSlots(for: sequence, tokens: largest) else { return table }
        var batch = TokenBatch()
        // Any id the model has (the BOS of most vocabularies; 0 in a one-token vocabulary).
        let token = Int32(min(1, transformer.configuration.vocabularySize - 1))
        for size in usable {
            var best = Double.infinity
            for _ in 0..<3 {
                batch.removeAll()
                let s = batch.addSequence(blockTable: blocks)
                for p in 0..<size { batch.append(token: token, position: p, sequence: s, wantsLogits: true) }
                let start = MonotonicClock.now()
                _ = transformer.forward(batch, cache: kv.cache)
                best = min(best, MonotonicClock.now() - start)
            }
            table.sizes.append(size)
            table.seconds.append(best)
        }
        return table
    }

    /// The KV sequence id measurements run under (request ids are positive).
    static let sequenceID = -1

    /// Weight of a newly observed step in its size's average.
    static let observationWeight = 0.1
    /// Largest step a first observation adds as a size of its own (the decode and
    /// verification sizes the policy weighs); larger steps update only sizes the table has,
    /// so it stays a few dozen entries whatever prompt chunks the engine runs.
    static let addedSizesUpTo = 16

    /// Folds a step of `tokens` tokens that took `seconds` into the table: into the running
    /// average of that size, or, up to `addedSizesUpTo` tokens, as a new size.
    mutating func observe(tokens: Int, seconds observed: Double) {
        guard tokens > 0, observed.isFinite, observed > 0 else { return }
        var i = 0
        while i < sizes.count && sizes[i] < tokens { i += 1 }
        if i < sizes.count && sizes[i] == tokens {
            seconds[i] += Self.observationWeight * (observed - seconds[i])
        } else if tokens <= Self.addedSizesUpTo {
            sizes.insert(tokens, at: i)
            seconds.insert(observed, at: i)
        }
    }

    func seconds(tokens: Int) -> Double {
        guard !sizes.isEmpty else { return 0 }
        if sizes.count == 1 { return seconds[0] * Double(tokens) / Double(sizes[0]) }
        var i = 1
        while i < sizes.count - 1 && sizes[i] < tokens { i += 1 }
        let (x0, x1, y0, y1) = (Double(sizes[i - 1]), Double(sizes[i]), seconds[i - 1], seconds[i])
        return max(0, y0 + (y1 - y0) * (Double(tokens) - x0) / (x1 - x0))
    }
}

/// Chooses how many tokens to draft this step: the k that maximises expected generated
/// tokens per second for the decoding requests, from their measured acceptance rates and
/// the measured step costs of target and drafter. Large batches, whose target steps are
/// already compute bound, get fewer draft tokens, down to none.
struct SpeculationPolicy {
    let maxDraftTokens: Int
    let adaptive: Bool
    var targetCosts = CostTable()

    /// Expected tokens a request gains per step with k drafts at per-token acceptance `alpha`.
    static func expectedTokens(alpha: Double, k: Int) -> Double {
        if alpha >= 0.999 { return Double(k + 1) }
        return (1 - pow(alpha, Double(k + 1))) / (1 - alpha)
    }

    /// Decoding requests above which speculation is off: measured on the shipped pair
    /// (Benchmarks/RESULTS.md), batches of 4 and more gain nothing from drafting because the
    /// target step is no longer bound by reading the weights.
    static let maxSpeculativeBatch = 2
    /// Predicted gain over plain decoding below which drafting is not worth its
    /// bookkeeping (sampling and checking the drafts and rolling back are not in the cost
    /// tables; they are a few percent of a step on the shipped pair).
    static let requiredGain = 1.1

    func draftLength(acceptanceRates: [Double], otherTokens: Int, draftSeconds: (Int) -> Double) -> Int {
        guard adaptive else { return maxDraftTokens }
        guard !acceptanceRates.isEmpty, acceptanceRates.count <= Self.maxSpeculativeBatch, !targetCosts.isEmpty else { return 0 }
        let b = acceptanceRates.count
        let plainRate = Double(b) / max(targetCosts.seconds(tokens: otherTokens + b), 1e-9)
        var best = 0
        var bestRate = plainRate * Self.requiredGain
        for k in 1...max(1, maxDraftTokens) where k <= maxDraftTokens {
            let gained = acceptanceRates.reduce(0) { $0 + Self.expectedTokens(alpha: $1, k: k) }
            let cost = targetCosts.seconds(tokens: otherTokens + b * (1 + k)) + Double(k) * draftSeconds(b)
            let rate = gained / max(cost, 1e-9)
            if rate > bestRate * 1.02 { best = k; bestRate = rate }  // prefer fewer drafts on near ties
        }
        return best
    }
}

import Foundation
