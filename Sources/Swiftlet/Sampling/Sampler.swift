import Foundation

/// Picks next tokens for one request: owns the request's seeded generator and scratch
/// buffers sized to the vocabulary, so sampling a token allocates nothing.
///
/// Transforms, in llama.cpp's default sampler-chain order:
/// 1. penalties (repetition, frequency, presence) over the last `repetitionWindow` history tokens;
/// 2. top-k: the `topK` highest logits (ties to the lower id);
/// 3. top-p: the shortest best-first prefix of those whose temperature-1 probability mass,
///    normalised over the top-k survivors, reaches `topP` (the token crossing it is kept);
/// 4. min-p: tokens whose logit is at least `log(minP)` below the best one;
/// 5. temperature, then softmax over the survivors; 6. draw.
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
        var total = 0.0
        for p in probabilities where p > 0 { total += Double(p) }
        guard total > 0, total.isFinite else { return 0 }
        let target = generator.nextDouble() * total
        var cumulative = 0.0
        var last = 0
        for i in 0..<probabilities.count {
            let p = probabilities[i]
            guard p > 0 else { continue }
            cumulative += Double(p)
            last = i
            if cumulative > target { return Int32(i) }
        }
        return Int32(last)  // rounding left the target just past the end
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
        var values = logits
        if let penalties {
            let adjusted = workspace.adjusted
            _ = adjusted.update(fromContentsOf: logits)
            penalties.apply(to: adjusted, history: history, counts: workspace.counts, touched: workspace.touched)
            values = UnsafeBufferPointer(adjusted)
        }
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<values.count where values[i] > bestValue {
            best = i
            bestValue = values[i]
        }
        return best
    }

    /// Copies the logits into the workspace, applies the penalties, maps NaN to -infinity and
    /// +infinity to the largest finite value; returns the largest adjusted logit.
    private func prepare(logits: UnsafeBufferPointer<Float>, history: UnsafeBufferPointer<Int32>) -> Float {
        let adjusted = workspace.adjusted
        _ = adjusted.update(fromContentsOf: logits)
        penalties?.apply(to: adjusted, history: history, counts: workspace.counts, touched: workspace.touched)
        var maxLogit = -Float.infinity
        for i in 0..<adjusted.count {
            var x = adjusted[i]
            if !x.isFinite {
                x = x.isNaN || x < 0 ? -.infinity : .greatestFiniteMagnitude
                adjusted[i] = x
            }
            maxLogit = max(maxLogit, x)
        }
        return maxLogit
    }

    /// The tokens that survive top-k, top-p and min-p.
    private enum Survivors {
        /// Every token.
        case all
        /// `workspace.order[0..<count]`.
        case listed(Int)
    }

    private func survivors(maxLogit: Float) -> Survivors {
        let w = workspace
        let logits = w.adjusted
        let p = parameters
        let minPThreshold = p.minP > 0 ? maxLogit + log(p.minP) : -Float.infinity
        let usesTopP = p.topP < 1

        if p.topK > 0 && p.topK < vocabularySize {
            w.selectTop(p.topK)
            var count = p.topK
            if p.minP > 0 {
                var n = 1
                while n < count && logits[Int(w.order[n])] >= minPThreshold { n += 1 }
                count = n
            }
            if usesTopP {
                var mass = 0.0
                for i in 0..<p.topK { mass += Double(exp(logits[Int(w.order[i])] - maxLogit)) }
                let target = Double(p.topP) * mass
                var cumulative = 0.0
                for i in 0..<count {
                    cumulative += Double(exp(logits[Int(w.order[i])] - maxLogit))
                    if cumulative >= target { return .listed(i + 1) }
                }
            }
            return .listed(count)
        }

        if usesTopP {
            var mass = 0.0
            var limit = 0  // tokens passing min-p: the longest prefix top-p may keep
            for i in 0..<vocabularySize {
                let x = logits[i]
                mass += Double(exp(x - maxLogit))
                if x >= minPThreshold { limit += 1 }
            }
            let target = Double(p.topP) * mass
            // Sort only as many of the best tokens as the nucleus needs: select the best m,
            // walk their mass, and select 8x more while it falls short.
            var selected = min(limit, 256)
            var walked = 0
            var cumulative = 0.0
            while true {
                w.selectTop(selected)
                for i in walked..<selected {
                    cumulative += Double(exp(logits[Int(w.order[i])] - maxLogit))
                    if cumulative >= target { return .listed(i + 1) }
                }
                if selected == limit { return .listed(limit) }
                walked = selected
                selected = min(limit, selected * 8)
            }
        }

        if p.minP > 0 {
            var count = 0
            for i in 0..<vocabularySize where logits[i] >= minPThreshold {
                w.order[count] = Int32(i)
                count += 1
            }
            return .listed(count)
        }
        return .all
    }

    /// Temperature and softmax over the survivors; zero elsewhere.
    private func softmax(_ kept: Survivors, maxLogit: Float, into probabilities: UnsafeMutableBufferPointer<Float>) {
        let logits = workspace.adjusted
        let temperature = parameters.temperature
        var sum = 0.0
        switch kept {
        case .all:
            for i in 0..<vocabularySize {
                let e = exp((logits[i] - maxLogit) / temperature)
                probabilities[i] = e
                sum += Double(e)
            }
            let scale = Float(1 / sum)
            for i in 0..<vocabularySize { probabilities[i] *= scale }
        case .listed(let count):
            probabilities.update(repeating: 0)
            let order = workspace.order
            for j in 0..<count {
                let id = Int(order[j])
                let e = exp((logits[id] - maxLogit) / temperature)
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
