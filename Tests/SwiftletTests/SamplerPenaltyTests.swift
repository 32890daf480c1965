import Foundation
import Testing
@testable import Swiftlet

@Suite("Sampler penalties")
struct SamplerPenaltyTests {
    typealias F = SamplerFixtures

    @Test func repetitionPenaltyChangesTheArgmax() {
        let penalised = SamplingParameters(temperature: 0, repetitionPenalty: 1.1)
        var sampler = Sampler(parameters: penalised, vocabularySize: 3)
        // Positive logit divided: 2.0 / 1.1 = 1.82 < 1.9.
        #expect(sampler.sample(logits: [2.0, 1.9, 0.5], history: []) == 0)
        #expect(sampler.sample(logits: [2.0, 1.9, 0.5], history: [0]) == 1)
        // Negative logit multiplied: -1.0 * 1.1 = -1.1 < -1.05.
        #expect(sampler.sample(logits: [-1.0, -1.05, -3], history: [0]) == 1)
        // Applied once per distinct token, however often it repeats: 2.0 / 1.1 > 1.8.
        #expect(sampler.sample(logits: [2.0, 1.8, 0.5], history: [0, 0, 0, 0]) == 0)
        // A penalty below 1 rewards repeats.
        var reward = Sampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 0.5), vocabularySize: 3)
        #expect(reward.sample(logits: [2.0, 1.9, 0.5], history: [1]) == 1)
        // Without a penalty nothing changes.
        var plain = Sampler(parameters: .greedy, vocabularySize: 3)
        #expect(plain.sample(logits: [2.0, 1.9, 0.5], history: [0, 0]) == 0)
        // The one-hot distribution follows the penalised argmax too.
        #expect(sampler.distribution(logits: [2.0, 1.9, 0.5], history: [0]) == [0, 1, 0])
    }

    @Test func penaltiesFollowTheLlamaCppFormula() {
        // Temperature-1 distribution with no filters: softmax of the penalised logits.
        let logits: [Float] = [1.5, -0.5, 0.25, 2.0, 0.0]
        let history: [Int32] = [3, 1, 3, 3, 4, 1]
        let parameters = SamplingParameters(repetitionPenalty: 1.25, frequencyPenalty: 0.3, presencePenalty: 0.2)
        let sampler = Sampler(parameters: parameters, vocabularySize: 5)
        let p = sampler.distribution(logits: logits, history: history)
        let counts = [0, 2, 0, 3, 1]
        let adjusted = logits.indices.map { i -> Double in
            var x = Double(logits[i])
            guard counts[i] > 0 else { return x }
            x = x > 0 ? x / 1.25 : x * 1.25
            return x - Double(counts[i]) * 0.3 - 0.2
        }
        let m = adjusted.max()!
        let z = adjusted.reduce(0) { $0 + exp($1 - m) }
        for i in 0..<5 { #expect(abs(Double(p[i]) - exp(adjusted[i] - m) / z) < 1e-6) }
    }

    @Test func windowLimitsWhatIsPenalised() {
        let parameters = SamplingParameters(temperature: 0, repetitionPenalty: 2, repetitionWindow: 3)
        var sampler = Sampler(parameters: parameters, vocabularySize: 4)
        let logits: [Float] = [3.0, 2.0, 0, 0]
        #expect(sampler.sample(logits: logits, history: [0, 2, 2, 2]) == 0)  // 0 is outside the window
        #expect(sampler.sample(logits: logits, history: [2, 0, 2, 2]) == 1)  // 0 is inside
        var off = Sampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 2, repetitionWindow: 0), vocabularySize: 4)
        #expect(off.sample(logits: logits, history: [0]) == 0)
    }

    @Test func penaltiesDoNotLeakBetweenCallsAndIgnoreBadIds() {
        let parameters = SamplingParameters(repetitionPenalty: 1.5, frequencyPenalty: 1, presencePenalty: 1, seed: 3)
        let sampler = Sampler(parameters: parameters, vocabularySize: 6)
        let logits: [Float] = [0.1, 0.9, -0.4, 1.3, 0.2, 0.0]
        let clean = sampler.distribution(logits: logits)
        let penalised = sampler.distribution(logits: logits, history: [3, 3, -1, 6, 99, Int32.max, Int32.min, 1])
        #expect(penalised != clean)
        #expect(penalised == sampler.distribution(logits: logits, history: [3, 1, 3]))
        #expect(sampler.distribution(logits: logits) == clean)
        let sum = penalised.reduce(0, +)
        #expect(abs(sum - 1) < 1e-6)
    }

    @Test func penaltyHistoryLongerThanWindow() {
        var g = SeededGenerator(seed: 8)
        let parameters = SamplingParameters(temperature: 0.9, topK: 50, repetitionPenalty: 1.2, repetitionWindow: 64,
                                            frequencyPenalty: 0.1, presencePenalty: 0.1, seed: 1)
        var sampler = Sampler(parameters: parameters, vocabularySize: 1000)
        var history: [Int32] = []
        for _ in 0..<300 {
            let logits = F.logits(1000, &g)
            let token = sampler.sample(logits: logits, history: history)
            history.append(token)
            // Same answer as when only the window is passed.
            let last = Array(history.suffix(64))
            #expect(sampler.distribution(logits: logits, history: history)
                    == sampler.distribution(logits: logits, history: last))
        }
    }
}
