import Foundation
import Testing
@testable import Swiftlet

/// Property tests: over many random logit vectors, parameters and seeds, top-k, top-p and
/// min-p keep exactly the tokens they should, and `sample` never picks an excluded one.
@Suite("Sampler filters")
struct SamplerFilterTests {
    typealias F = SamplerFixtures

    /// Prefix lengths (of the ranking) the filters may keep: top-k exactly, top-p and min-p
    /// with a 1e-5 relative tolerance at their boundaries (float rounding).
    static func allowedKeptCounts(_ logits: [Float], _ p: SamplingParameters) -> ClosedRange<Int> {
        let order = F.ranking(logits)
        let pool = p.topK > 0 ? min(p.topK, logits.count) : logits.count
        let best = Double(logits[order[0]])
        let weights = order.prefix(pool).map { exp(Double(logits[$0]) - best) }
        var low = pool, high = pool
        if p.topP < 1 {
            let target = Double(p.topP) * weights.reduce(0, +)
            var cumulative = 0.0
            var foundLow = false, foundHigh = false
            for (i, w) in weights.enumerated() {
                cumulative += w
                if !foundLow && cumulative >= target * (1 - 1e-5) { low = i + 1; foundLow = true }
                if !foundHigh && cumulative >= target * (1 + 1e-5) { high = i + 1; foundHigh = true }
            }
        }
        if p.minP > 0 {
            let mustKeep = weights.prefix { $0 >= Double(p.minP) * (1 + 1e-5) }.count
            let mayKeep = weights.prefix { $0 >= Double(p.minP) * (1 - 1e-5) }.count
            low = min(low, max(1, mustKeep))
            high = min(high, max(1, mayKeep))
        }
        return max(1, low)...max(1, high)
    }

    /// Checks one distribution: its support is the best `n` tokens for an allowed `n`, the
    /// kept probabilities follow softmax(logit / temperature), and samples stay inside.
    static func check(_ parameters: SamplingParameters, logits: [Float], draws: Int = 10) {
        var sampler = Sampler(parameters: parameters, vocabularySize: logits.count)
        let p = sampler.distribution(logits: logits)
        let support = F.support(p)
        let order = F.ranking(logits)
        let allowed = allowedKeptCounts(logits, parameters)
        #expect(allowed.contains(support.count), "kept \(support.count), allowed \(allowed) for \(parameters)")
        #expect(support == Set(order.prefix(support.count)), "kept tokens are not the best ones for \(parameters)")
        let best = Double(logits[order[0]])
        let t = Double(parameters.temperature)
        let z = support.reduce(0.0) { $0 + exp((Double(logits[$1]) - best) / t) }
        for i in support {
            let expected = exp((Double(logits[i]) - best) / t) / z
            #expect(abs(Double(p[i]) - expected) <= 1e-5 * max(expected, 1e-3))
        }
        for _ in 0..<draws {
            let token = Int(sampler.sample(logits: logits))
            #expect(support.contains(token), "sampled excluded token \(token) for \(parameters)")
        }
    }

    @Test func topKKeepsExactlyK() {
        var g = SeededGenerator(seed: 100)
        for trial in 0..<150 {
            let vocabulary = [10, 1000, 4000][trial % 3]
            let logits = F.logits(vocabulary, &g)
            let k = Int.random(in: 1...60, using: &g)
            let parameters = SamplingParameters(temperature: Float.random(in: 0.2...2, using: &g), topK: k, seed: g.next())
            Self.check(parameters, logits: logits)
            let kept = F.support(Sampler(parameters: parameters, vocabularySize: vocabulary).distribution(logits: logits))
            #expect(kept.count == min(k, vocabulary))
        }
    }

    @Test func topKBreaksTiesTowardLowerIds() {
        let logits: [Float] = [1, 3, 2, 3, 3, 0, 3]
        let sampler = Sampler(parameters: SamplingParameters(topK: 2), vocabularySize: 7)
        #expect(F.support(sampler.distribution(logits: logits)) == [1, 3])
        let flat = Sampler(parameters: SamplingParameters(topK: 3), vocabularySize: 10)
        #expect(F.support(flat.distribution(logits: [Float](repeating: 0, count: 10))) == [0, 1, 2])
    }

    @Test func topPKeepsTheNucleus() {
        var g = SeededGenerator(seed: 200)
        for trial in 0..<150 {
            let vocabulary = [10, 1000, 5000][trial % 3]
            let logits = F.logits(vocabulary, &g, scale: Float.random(in: 0.1...4, using: &g))
            let parameters = SamplingParameters(temperature: Float.random(in: 0.2...2, using: &g),
                                                topP: Float.random(in: 0.01...0.99, using: &g), seed: g.next())
            Self.check(parameters, logits: logits)
        }
    }

    @Test func topPOverLargeFlatVocabulary() {
        // Flat logits make the nucleus most of a 128k vocabulary: several selection rounds.
        var g = SeededGenerator(seed: 250)
        let logits = F.logits(128_000, &g, scale: 0.05)
        Self.check(SamplingParameters(topP: 0.9, seed: 1), logits: logits, draws: 3)
        Self.check(SamplingParameters(topP: 0.3, minP: 0.97, seed: 2), logits: logits, draws: 3)
        let peaked = F.logits(128_000, &g, scale: 4)
        Self.check(SamplingParameters(temperature: 0.8, topP: 0.95, seed: 3), logits: peaked, draws: 3)
    }

    @Test func minPKeepsTokensAboveTheRatio() {
        var g = SeededGenerator(seed: 300)
        for trial in 0..<150 {
            let vocabulary = [10, 1000, 5000][trial % 3]
            let logits = F.logits(vocabulary, &g, scale: Float.random(in: 0.1...4, using: &g))
            let parameters = SamplingParameters(temperature: Float.random(in: 0.2...2, using: &g),
                                                minP: Float.random(in: 0.001...1, using: &g), seed: g.next())
            Self.check(parameters, logits: logits)
        }
        let tied = Sampler(parameters: SamplingParameters(minP: 1), vocabularySize: 5)
        #expect(F.support(tied.distribution(logits: [1, 4, 4, 2, 4])) == [1, 2, 4])
    }

    @Test func largeTopKSelectsByBuckets() {
        // k above Sampler.heapSelectionLimit takes the bucketed path.
        var g = SeededGenerator(seed: 500)
        for trial in 0..<24 {
            let vocabulary = [6000, 30000][trial % 2]
            let logits = F.logits(vocabulary, &g, scale: Float.random(in: 0.05...5, using: &g))
            let parameters = SamplingParameters(
                temperature: Float.random(in: 0.3...2, using: &g),
                topK: Int.random(in: (Sampler.heapSelectionLimit + 1)..<vocabulary, using: &g),
                topP: trial % 3 == 0 ? 1 : Float.random(in: 0.05...0.999, using: &g),
                minP: trial % 4 == 0 ? Float.random(in: 0.001...0.2, using: &g) : 0,
                seed: g.next())
            Self.check(parameters, logits: logits, draws: 3)
        }
    }

    @Test func tiedLogitsCutByLowerIds() {
        // Logits on a coarse grid: many ties, inside and across buckets, on both paths.
        var g = SeededGenerator(seed: 600)
        for trial in 0..<60 {
            let vocabulary = [50, 3000, 9000][trial % 3]
            let logits = F.logits(vocabulary, &g, scale: 2).map { ($0 * 2).rounded() / 2 }
            let parameters = SamplingParameters(
                temperature: Float.random(in: 0.3...2, using: &g),
                topK: trial % 2 == 0 ? 0 : Int.random(in: 1..<vocabulary, using: &g),
                topP: trial % 3 == 0 ? 1 : Float.random(in: 0.05...0.99, using: &g),
                minP: trial % 5 == 0 ? Float.random(in: 0.01...0.5, using: &g) : 0,
                seed: g.next())
            Self.check(parameters, logits: logits, draws: 3)
        }
        var masked = [Float](repeating: -.infinity, count: 5000)
        for i in stride(from: 7, to: 5000, by: 13) { masked[i] = Float(i % 5) }
        Self.check(SamplingParameters(topK: 3000, topP: 0.9), logits: masked)
        Self.check(SamplingParameters(topP: 0.5, minP: 0.2), logits: masked)
    }

    @Test func combinedFiltersNeverPickExcludedTokens() {
        var g = SeededGenerator(seed: 400)
        for trial in 0..<300 {
            let vocabulary = [5, 300, 3000, 20000][trial % 4]
            let logits = F.logits(vocabulary, &g, scale: Float.random(in: 0.2...5, using: &g))
            let parameters = SamplingParameters(
                temperature: Float.random(in: 0.1...3, using: &g),
                topK: Bool.random(using: &g) ? 0 : Int.random(in: 1...100, using: &g),
                topP: Bool.random(using: &g) ? 1 : Float.random(in: 0.05...0.99, using: &g),
                minP: Bool.random(using: &g) ? 0 : Float.random(in: 0.001...0.6, using: &g),
                seed: g.next())
            Self.check(parameters, logits: logits)
        }
    }
}
