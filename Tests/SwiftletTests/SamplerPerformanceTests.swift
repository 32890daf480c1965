import Foundation
import Testing
@testable import Swiftlet

/// Per-token cost over a 128k vocabulary (Llama 3 size). Prints microseconds per token and
/// fails only on gross regressions (e.g. sorting the whole vocabulary for top-p, ~50 ms).
@Suite("Sampler performance")
struct SamplerPerformanceTests {
    static let configurations: [(String, SamplingParameters)] = [
        ("greedy", .greedy),
        ("greedy, repetition penalty", SamplingParameters(temperature: 0, repetitionPenalty: 1.1)),
        ("temperature 1", SamplingParameters(seed: 1)),
        ("top-k 40, top-p 0.95, T 0.8", SamplingParameters(temperature: 0.8, topK: 40, topP: 0.95, seed: 1)),
        ("top-p 0.95, T 0.8", SamplingParameters(temperature: 0.8, topP: 0.95, seed: 1)),
        ("min-p 0.05, penalties", SamplingParameters(minP: 0.05, repetitionPenalty: 1.1, presencePenalty: 0.5, seed: 1)),
        ("top-k 50000", SamplingParameters(topK: 50_000, seed: 1)),
    ]

    @Test func largeVocabularyCostPerToken() {
        let vocabulary = 128_256
        var g = SeededGenerator(seed: 5)
        let peaked = SamplerFixtures.logits(vocabulary, &g, scale: 3)
        let flat = SamplerFixtures.logits(vocabulary, &g, scale: 0.3)
        let history = (0..<64).map { _ in Int32.random(in: 0..<Int32(vocabulary), using: &g) }
        let clock = ContinuousClock()
        let tokens = 40
        for (name, parameters) in Self.configurations {
            for (shape, logits) in [("peaked", peaked), ("flat", flat)] {
                var sampler = Sampler(parameters: parameters, vocabularySize: vocabulary)
                let elapsed = logits.withUnsafeBufferPointer { l in
                    history.withUnsafeBufferPointer { h in
                        clock.measure { for _ in 0..<tokens { _ = sampler.sample(logits: l, history: h) } }
                    }
                }
                let perToken = elapsed / tokens
                print("sampler \(name), \(shape) logits: \(perToken.components.attoseconds / 1_000_000_000_000) µs/token")
                #expect(perToken < .milliseconds(25), "\(name), \(shape): \(perToken) per token")
            }
        }
    }
}
