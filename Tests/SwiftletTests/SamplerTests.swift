import Foundation
import Testing
@testable import Swiftlet

/// Helpers shared by the sampler suites.
enum SamplerFixtures {
    /// Roughly normal logits with standard deviation `scale` (sum of uniforms).
    static func logits(_ count: Int, _ g: inout SeededGenerator, scale: Float = 3) -> [Float] {
        (0..<count).map { _ in
            var s: Float = 0
            for _ in 0..<4 { s += g.nextFloat() }
            return (s - 2) * scale * 1.732
        }
    }

    /// Token ids best first: larger logit, ties to the lower id.
    static func ranking(_ logits: [Float]) -> [Int] {
        logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
    }

    static func support(_ probabilities: [Float]) -> Set<Int> {
        Set(probabilities.indices.filter { probabilities[$0] > 0 })
    }

    static func argmax(_ logits: [Float]) -> Int { ranking(logits)[0] }
}

@Suite("Sampler basics")
struct SamplerTests {
    typealias F = SamplerFixtures

    @Test func greedyIsArgmaxWithTiesToLowestId() {
        var sampler = Sampler(parameters: .greedy, vocabularySize: 8)
        #expect(sampler.sample(logits: [0, 1, 5, 2, 5, 5, -1, 3]) == 2)
        #expect(sampler.sample(logits: [9, 1, 5, 2, 9, 5, -1, 9]) == 0)
        #expect(sampler.sample(logits: [-3, -2, -1, -1, -4, -5, -6, -7]) == 2)
        #expect(sampler.distribution(logits: [0, 1, 5, 2, 5, 5, -1, 3]) == [0, 0, 1, 0, 0, 0, 0, 0])
        var g = SeededGenerator(seed: 1)
        var big = Sampler(parameters: .greedy, vocabularySize: 1000)
        var topOne = Sampler(parameters: SamplingParameters(temperature: 0.8, topK: 1), vocabularySize: 1000)
        for _ in 0..<50 {
            let logits = F.logits(1000, &g)
            let best = F.argmax(logits)
            #expect(big.sample(logits: logits) == Int32(best))
            #expect(topOne.sample(logits: logits) == Int32(best))
            #expect(F.support(big.distribution(logits: logits)) == [best])
        }
    }

    @Test func sameSeedRepeatsDifferentSeedsDiffer() {
        var g = SeededGenerator(seed: 2)
        let logits = F.logits(500, &g, scale: 1)
        func run(_ seed: UInt64) -> [Int32] {
            var sampler = Sampler(parameters: SamplingParameters(temperature: 1.2, topK: 100, seed: seed), vocabularySize: 500)
            return (0..<200).map { _ in sampler.sample(logits: logits) }
        }
        #expect(run(5) == run(5))
        #expect(run(5) != run(6))
        var a = Sampler(parameters: SamplingParameters(seed: 9), vocabularySize: 2)
        var b = Sampler(parameters: SamplingParameters(seed: 9), vocabularySize: 2)
        #expect((0..<20).map { _ in a.uniform() } == (0..<20).map { _ in b.uniform() })
        var unseeded1 = Sampler(parameters: SamplingParameters(), vocabularySize: 2)
        var unseeded2 = Sampler(parameters: SamplingParameters(), vocabularySize: 2)
        #expect((0..<8).map { _ in unseeded1.uniform() } != (0..<8).map { _ in unseeded2.uniform() })
        for _ in 0..<1000 {
            let u = a.uniform()
            #expect(u >= 0 && u < 1)
        }
    }

    static let parameterSets: [SamplingParameters] = [
        SamplingParameters(),
        SamplingParameters(temperature: 0.3),
        SamplingParameters(temperature: 2.5, topK: 7),
        SamplingParameters(topP: 0.5),
        SamplingParameters(minP: 0.2),
        SamplingParameters(temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05),
        SamplingParameters(temperature: 0.8, topP: 0.95, minP: 0.01, repetitionPenalty: 1.3, frequencyPenalty: 0.4, presencePenalty: 0.2),
        .greedy,
    ]

    @Test(arguments: parameterSets, [1, 7, 1000, 32000])
    func distributionSumsToOne(_ parameters: SamplingParameters, vocabulary: Int) {
        var g = SeededGenerator(seed: UInt64(vocabulary))
        let sampler = Sampler(parameters: parameters, vocabularySize: vocabulary)
        for _ in 0..<5 {
            let logits = F.logits(vocabulary, &g)
            let history = (0..<100).map { _ in Int32.random(in: 0..<Int32(vocabulary), using: &g) }
            let p = sampler.distribution(logits: logits, history: history)
            let sum = p.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - 1) < 1e-5)
            #expect(p.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
    }

    @Test func temperatureScalesTheSoftmax() {
        var g = SeededGenerator(seed: 3)
        let logits = F.logits(300, &g)
        for t: Float in [0.25, 0.7, 1, 1.9] {
            let sampler = Sampler(parameters: SamplingParameters(temperature: t), vocabularySize: 300)
            let p = sampler.distribution(logits: logits)
            let m = Double(logits.max()!)
            let e = logits.map { exp((Double($0) - m) / Double(t)) }
            let z = e.reduce(0, +)
            for i in 0..<300 { #expect(abs(Double(p[i]) - e[i] / z) < 1e-6) }
        }
    }

    @Test func sampleDrawsExactlyFromDistribution() {
        // Same seed: sample(...) and draw(from: distribution(...)) pick the same tokens.
        var g = SeededGenerator(seed: 4)
        for var parameters in Self.parameterSets {
            parameters.seed = 77
            var a = Sampler(parameters: parameters, vocabularySize: 2000)
            var b = Sampler(parameters: parameters, vocabularySize: 2000)
            for _ in 0..<20 {
                let logits = F.logits(2000, &g)
                let history = (0..<30).map { _ in Int32.random(in: 0..<2000, using: &g) }
                let sampled = a.sample(logits: logits, history: history)
                let p = b.distribution(logits: logits, history: history)
                if !parameters.isGreedy {
                    #expect(b.draw(from: p) == sampled)
                }
                #expect(p[Int(sampled)] > 0)
            }
        }
    }

    @Test func empiricalFrequenciesMatchDistribution() {
        // Chi-square goodness of fit of 40,000 seeded draws against `distribution`.
        let logits: [Float] = [1.0, 2.5, 0.3, 2.2, -1.0, 1.7, 0.0, 2.4, -3.0, 1.1, 0.9, 2.0]
        for parameters in [
            SamplingParameters(temperature: 1, seed: 11),
            SamplingParameters(temperature: 0.6, topK: 6, seed: 12),
            SamplingParameters(temperature: 1.5, topP: 0.8, seed: 13),
            SamplingParameters(temperature: 1.0, minP: 0.3, seed: 14),
            SamplingParameters(temperature: 0.9, topK: 8, topP: 0.9, minP: 0.1, repetitionPenalty: 1.5, seed: 15),
        ] {
            var sampler = Sampler(parameters: parameters, vocabularySize: logits.count)
            let history: [Int32] = [1, 3, 3]
            let p = sampler.distribution(logits: logits, history: history)
            let n = 40_000
            var counts = [Int](repeating: 0, count: logits.count)
            for _ in 0..<n { counts[Int(sampler.sample(logits: logits, history: history))] += 1 }
            var chiSquare = 0.0
            var categories = 0
            for i in logits.indices {
                if p[i] == 0 {
                    #expect(counts[i] == 0, "token \(i) has probability 0 but was drawn")
                    continue
                }
                let expected = Double(p[i]) * Double(n)
                chiSquare += (Double(counts[i]) - expected) * (Double(counts[i]) - expected) / expected
                categories += 1
            }
            // 99.9th percentile of chi-square with up to 11 degrees of freedom is 31.3.
            #expect(chiSquare < 31.3, "chi-square \(chiSquare) over \(categories) tokens for \(parameters)")
            let totalVariation = logits.indices.reduce(0.0) { $0 + abs(Double(counts[$1]) / Double(n) - Double(p[$1])) } / 2
            #expect(totalVariation < 0.02)
        }
    }

    @Test func drawHandlesUnnormalisedAndDegenerateWeights() {
        var sampler = Sampler(parameters: SamplingParameters(seed: 1), vocabularySize: 4)
        for _ in 0..<200 {
            let t = sampler.draw(from: [0, 3, 0, 1])
            #expect(t == 1 || t == 3)
            #expect(sampler.draw(from: [0, 0, .nan, 2]) == 3)
            #expect(sampler.draw(from: [-1, 0, 5, 0]) == 2)
        }
        #expect(sampler.draw(from: [0, 0, 0, 0]) == 0)
    }

    @Test func nonFiniteLogits() {
        var sampler = Sampler(parameters: SamplingParameters(seed: 3), vocabularySize: 4)
        var greedy = Sampler(parameters: .greedy, vocabularySize: 4)
        for _ in 0..<100 {
            let t = sampler.sample(logits: [.nan, 1, .nan, 1])
            #expect(t == 1 || t == 3)
        }
        #expect(greedy.sample(logits: [.nan, 1, .nan, 2]) == 3)
        #expect(sampler.sample(logits: [1, .infinity, 3, 4]) == 1)
        #expect(greedy.sample(logits: [1, .infinity, 3, 4]) == 1)
        #expect(sampler.distribution(logits: [-.infinity, -.infinity, .nan, -.infinity]) == [1, 0, 0, 0])
        #expect(greedy.sample(logits: [-.infinity, -.infinity, .nan, -.infinity]) == 0)
        let filtered = Sampler(parameters: SamplingParameters(topK: 3, topP: 0.9, minP: 0.1), vocabularySize: 4)
        let p = filtered.distribution(logits: [-.infinity, 2, .nan, -.infinity])
        #expect(p == [0, 1, 0, 0])
    }

    @Test func vocabularyOfOne() {
        for parameters in Self.parameterSets {
            var sampler = Sampler(parameters: parameters, vocabularySize: 1)
            #expect(sampler.sample(logits: [0.5], history: [0, 0, 7]) == 0)
            #expect(sampler.distribution(logits: [0.5]) == [1])
        }
    }
}
