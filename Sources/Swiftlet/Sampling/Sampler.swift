import Foundation

/// Picks next tokens for one request: owns the request's seeded generator and scratch
/// buffers sized to the vocabulary, so sampling a token allocates nothing.
///
/// Transforms, in llama.cpp's default sampler-chain order:
/// 1. penalties (repetition, frequency, presence) over the last `repetitionWindow` history tokens;
/// 2. top-k: the `topK` highest logits (ties to the lower id);
/// 3. top-p: the shortest best-first prefix of those whose temperature-1 probability mass,
///    normalised over the top-k survivors, reaches `topP` (the token crossing it is kept);
/// 4. min-p: tokens whose temperature-1 probability is at least `minP` times the best
///    token's (logit >= max logit + log(minP));
/// 5. temperature, then softmax over the survivors; 6. draw.
///
/// Every filter keeps a best-first prefix of the ranking, so none sorts the vocabulary:
/// top-k up to 2048 uses a bounded heap, larger top-k and top-p use a logit histogram and
/// sort one bucket (`LogitBuckets`), min-p is a threshold; the vocabulary-wide passes
/// (max, exp, sums, inverse CDF) are SIMD. About 0.1-0.4 ms per token at a 128k vocabulary
/// on this project's CPU, a few microseconds for greedy.
///
/// Greedy parameters (see `SamplingParameters.isGreedy`) give the argmax after penalties,
/// ties to the lowest id. NaN logits are never picked; +infinity counts as the largest
/// finite logit. When every logit is -infinity or NaN, token 0 is picked.
///
/// Copies of a sampler share its scratch buffers (not its generator): use a sampler and its
/// copies from one task at a time.
public struct Sampler: @unchecked Sendable {
    /// The parameters in use: those given, clamped into their valid ranges.
    public let parameters: SamplingParameters
    public let vocabularySize: Int
    private var generator: SeededGenerator
    private let workspace: SamplerWorkspace
    private let penalties: LogitPenalties?

    /// A sampler for a vocabulary of `vocabularySize` tokens. Invalid parameters are clamped
    /// (see `SamplingParameters.clamped()`); call `SamplingParameters.validate()` first to
    /// report them instead.
    public init(parameters: SamplingParameters, vocabularySize: Int) {
        precondition(vocabularySize > 0, "vocabulary must not be empty")
        precondition(vocabularySize <= Int(Int32.max), "vocabulary too large for Int32 token ids")
        let p = parameters.clamped()
        self.parameters = p
        self.vocabularySize = vocabularySize
        generator = p.seed.map { SeededGenerator(seed: $0) } ?? SeededGenerator()
        penalties = p.hasPenalties ? LogitPenalties(p) : nil
        workspace = SamplerWorkspace(vocabularySize: vocabularySize, penaltyWindow: penalties?.window ?? 0)
    }

    // MARK: - Public API

    /// Writes the distribution the next token is drawn from into `probabilities`: zero for
    /// tokens the filters exclude, summing to 1; one-hot at the argmax for greedy parameters.
    /// - Parameters:
    ///   - logits: one logit per vocabulary token.
    ///   - history: the tokens so far (prompt and generated); only the last
    ///     `repetitionWindow` are looked at, and only when a penalty is set.
    ///   - probabilities: vocabulary-sized output.
    public func distribution(
        logits: UnsafeBufferPointer<Float>, history: UnsafeBufferPointer<Int32>,
        into probabilities: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(logits.count == vocabularySize, "expected \(vocabularySize) logits, got \(logits.count)")
        precondition(probabilities.count == vocabularySize, "expected \(vocabularySize) probabilities, got \(probabilities.count)")
        if parameters.isGreedy {
            oneHot(at: greedyToken(logits: logits, history: history), into: probabilities)
            return
        }
        let maxLogit = prepare(logits: logits, history: history)
        guard maxLogit > -.infinity else {
            oneHot(at: 0, into: probabilities)
            return
        }
        let kept = survivors(maxLogit: maxLogit)
        softmax(kept, maxLogit: maxLogit, into: probabilities)
    }

    /// Draws a token id from `probabilities` (non-negative weights, normally summing to 1)
    /// with the sampler's generator: one uniform number per draw, inverse-CDF in id order.
    /// Tokens of weight zero (or NaN) are never drawn; if no weight is positive, returns 0.
    public mutating func draw(from probabilities: UnsafeBufferPointer<Float>) -> Int32 {
        let total = SamplingKernels.positiveSum(probabilities)
        guard total > 0, total.isFinite else { return 0 }
        let target = generator.nextDouble() * total
        return Int32(SamplingKernels.inverseCDF(probabilities, target: target) ?? 0)
    }

    /// A uniform number in [0, 1) from the sampler's generator (24 random bits).
    public mutating func uniform() -> Float {
        generator.nextFloat()
    }

    /// Samples the next token: `distribution` then `draw`, so it draws exactly from the
    /// distribution `distribution` reports (and, for a given generator state, the same token).
    /// Greedy parameters take a fast path (argmax, no softmax, no random number used).
    public mutating func sample(logits: UnsafeBufferPointer<Float>, history: UnsafeBufferPointer<Int32>) -> Int32 {
        if parameters.isGreedy {
            precondition(logits.count == vocabularySize, "expected \(vocabularySize) logits, got \(logits.count)")
            return Int32(greedyToken(logits: logits, history: history))
        }
        let probabilities = workspace.probabilities
        distribution(logits: logits, history: history, into: probabilities)
        return draw(from: UnsafeBufferPointer(probabilities))
    }

    // MARK: - Steps

    /// The argmax after penalties, ties to the lowest id; NaN never wins.
    private func greedyToken(logits: UnsafeBufferPointer<Float>, history: UnsafeBufferPointer<Int32>) -> Int {
        guard let penalties else { return SamplingKernels.argmax(logits) }
        let adjusted = workspace.adjusted
        _ = adjusted.update(fromContentsOf: logits)
        penalties.apply(to: adjusted, history: history, counts: workspace.counts, touched: workspace.touched)
        return SamplingKernels.argmax(UnsafeBufferPointer(adjusted))
    }

    /// Copies the logits into the workspace, applies the penalties, maps NaN to -infinity and
    /// +infinity to the largest finite value; returns the largest adjusted logit.
    private func prepare(logits: UnsafeBufferPointer<Float>, history: UnsafeBufferPointer<Int32>) -> Float {
        let adjusted = workspace.adjusted
        _ = adjusted.update(fromContentsOf: logits)
        penalties?.apply(to: adjusted, history: history, counts: workspace.counts, touched: workspace.touched)
        return SamplingKernels.sanitizeAndMax(adjusted)
    }

    /// The tokens that survive top-k, top-p and min-p. Every filter keeps a best-first
    /// prefix of the ranking (larger logit first, ties to the lower id), so survivors are
    /// either a short sorted list or a cut in the ranking.
    private enum Survivors {
        /// `workspace.order[0..<count]`.
        case listed(Int)
        /// Tokens ranking at or above a token of logit `logit` and id `id`: logit above
        /// `logit`, or equal to it with an id up to `id`. `.cut(-infinity, Int.max)` is everyone.
        case cut(logit: Float, id: Int)
    }

    /// Largest top-k handled by heap selection; larger ones use logit buckets.
    static let heapSelectionLimit = 2048

    private func survivors(maxLogit: Float) -> Survivors {
        let p = parameters
        let minPThreshold = p.minP > 0 ? maxLogit + log(p.minP) : -Float.infinity
        let usesTopK = p.topK > 0 && p.topK < vocabularySize
        if usesTopK && p.topK <= Self.heapSelectionLimit {
            return topKSurvivors(maxLogit: maxLogit, minPThreshold: minPThreshold)
        }
        if usesTopK || p.topP < 1 {
            return bucketedCut(maxLogit: maxLogit, minPThreshold: minPThreshold)
        }
        // Min-p alone (or nothing): a threshold on the logit.
        return .cut(logit: minPThreshold, id: Int.max)
    }

    /// Top-k by heap selection, then top-p (mass normalised over the k) and min-p by walking
    /// the sorted k.
    private func topKSurvivors(maxLogit: Float, minPThreshold: Float) -> Survivors {
        let w = workspace
        let logits = w.adjusted
        let k = parameters.topK
        w.selectTop(k)
        var count = k
        if parameters.minP > 0 {
            var n = 1
            while n < count && logits[Int(w.order[n])] >= minPThreshold { n += 1 }
            count = n
        }
        if parameters.topP < 1 {
            var mass = 0.0
            for i in 0..<k { mass += Double(SamplingKernels.exp(logits[Int(w.order[i])] - maxLogit)) }
            let target = Double(parameters.topP) * mass
            var cumulative = 0.0
            for i in 0..<count {
                cumulative += Double(SamplingKernels.exp(logits[Int(w.order[i])] - maxLogit))
                if cumulative >= target { return .listed(i + 1) }
            }
        }
        return .listed(count)
    }

    /// Top-k (large k) and top-p over the whole vocabulary without sorting it (see
    /// `LogitBuckets`): the k-th token is found by walking bucket counts, the nucleus by
    /// walking bucket masses (normalised over the top-k pool); only the bucket holding each
    /// cut is sorted. Min-p then shortens the cut when its threshold is higher.
    private func bucketedCut(maxLogit: Float, minPThreshold: Float) -> Survivors {
        let w = workspace
        let logits = w.adjusted
        let buckets = LogitBuckets(workspace: w, maxLogit: maxLogit)
        let last = LogitBuckets.count

        // Top-k: the pool is every bucket before `poolBucket` plus the best `poolTake` of it.
        var poolBucket = last, poolTake = Int(w.bucketTokens[last])
        var poolMass = buckets.totalMass
        var massBefore = 0.0
        var cutId = Int.max, cutLogit = -Float.infinity
        var sortedBucket = -1, sortedCount = 0
        let k = parameters.topK
        if k > 0 && k < vocabularySize {
            var before = 0
            for b in 0...last {
                let tokens = Int(w.bucketTokens[b])
                if before + tokens >= k {
                    poolBucket = b
                    poolTake = k - before
                    break
                }
                before += tokens
                massBefore += w.bucketMass[b]
            }
            sortedCount = buckets.gather(poolBucket)
            sortedBucket = poolBucket
            poolMass = massBefore
            for j in 0..<poolTake { poolMass += Double(SamplingKernels.exp(logits[Int(w.order[j])] - maxLogit)) }
            cutId = Int(w.order[poolTake - 1])
            cutLogit = logits[cutId]
        }

        // Top-p inside the pool.
        if parameters.topP < 1 {
            let target = Double(parameters.topP) * poolMass
            var cumulative = 0.0
            var nucleusBucket = poolBucket
            for b in 0...poolBucket {
                let mass = b == poolBucket ? poolMass - cumulative : w.bucketMass[b]
                if cumulative + mass >= target || b == poolBucket {
                    nucleusBucket = b
                    break
                }
                cumulative += mass
            }
            let available: Int
            if nucleusBucket == sortedBucket {
                available = poolTake
            } else {
                sortedCount = buckets.gather(nucleusBucket)
                available = nucleusBucket == poolBucket ? poolTake : sortedCount
            }
            var lastKept = max(0, available - 1)
            for j in 0..<available {
                cumulative += Double(SamplingKernels.exp(logits[Int(w.order[j])] - maxLogit))
                if cumulative >= target {
                    lastKept = j
                    break
                }
            }
            if available > 0 {
                cutId = Int(w.order[lastKept])
                cutLogit = logits[cutId]
            }
        }
        if cutLogit < minPThreshold { return .cut(logit: minPThreshold, id: Int.max) }
        return .cut(logit: cutLogit, id: cutId)
    }

    /// Temperature and softmax over the survivors; zero elsewhere.
    private func softmax(_ kept: Survivors, maxLogit: Float, into probabilities: UnsafeMutableBufferPointer<Float>) {
        let logits = workspace.adjusted
        let temperature = parameters.temperature
        switch kept {
        case .cut(let logit, let id):
            let sum = SamplingKernels.exponentiate(
                logits, shift: maxLogit, temperature: temperature, cutLogit: logit, cutId: id, into: probabilities)
            SamplingKernels.scale(probabilities, by: Float(1 / sum))
        case .listed(let count):
            probabilities.update(repeating: 0)
            let order = workspace.order
            var sum = 0.0
            for j in 0..<count {
                let id = Int(order[j])
                let e = SamplingKernels.exp((logits[id] - maxLogit) / temperature)
                probabilities[id] = e
                sum += Double(e)
            }
            let scale = Float(1 / sum)
            for j in 0..<count { probabilities[Int(order[j])] *= scale }
        }
    }

    private func oneHot(at token: Int, into probabilities: UnsafeMutableBufferPointer<Float>) {
        probabilities.update(repeating: 0)
        probabilities[token] = 1
    }
}
