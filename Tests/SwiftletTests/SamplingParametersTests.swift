import Foundation
import Testing
@testable import Swiftlet

@Suite("Sampling parameters")
struct SamplingParametersTests {
    @Test func defaultsAndGreedyAreValid() throws {
        try SamplingParameters().validate()
        try SamplingParameters.greedy.validate()
        #expect(SamplingParameters.greedy.isGreedy)
        #expect(!SamplingParameters().isGreedy)
        #expect(SamplingParameters(topK: 1).isGreedy)
        #expect(!SamplingParameters().hasPenalties)
        #expect(SamplingParameters(repetitionPenalty: 1.1).hasPenalties)
        #expect(!SamplingParameters(repetitionPenalty: 1.1, repetitionWindow: 0).hasPenalties)
        try SamplingParameters(temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1,
                               repetitionWindow: 256, frequencyPenalty: -2, presencePenalty: 2, seed: 7).validate()
    }

    @Test(arguments: [
        (SamplingParameters(temperature: -0.1), "temperature"),
        (SamplingParameters(temperature: .nan), "temperature"),
        (SamplingParameters(temperature: .infinity), "temperature"),
        (SamplingParameters(topK: -1), "topK"),
        (SamplingParameters(topP: 0), "topP"),
        (SamplingParameters(topP: -0.5), "topP"),
        (SamplingParameters(topP: 1.01), "topP"),
        (SamplingParameters(topP: .nan), "topP"),
        (SamplingParameters(minP: -0.01), "minP"),
        (SamplingParameters(minP: 1.5), "minP"),
        (SamplingParameters(minP: .nan), "minP"),
        (SamplingParameters(repetitionPenalty: 0), "repetitionPenalty"),
        (SamplingParameters(repetitionPenalty: -1), "repetitionPenalty"),
        (SamplingParameters(repetitionPenalty: .infinity), "repetitionPenalty"),
        (SamplingParameters(repetitionWindow: -1), "repetitionWindow"),
        (SamplingParameters(frequencyPenalty: 2.5), "frequencyPenalty"),
        (SamplingParameters(frequencyPenalty: .nan), "frequencyPenalty"),
        (SamplingParameters(presencePenalty: -3), "presencePenalty"),
    ])
    func validateRejects(_ parameters: SamplingParameters, _ name: String) {
        do {
            try parameters.validate()
            Issue.record("\(parameters) passed validation")
        } catch let error as SamplingParameterError {
            #expect(error.parameter == name)
            #expect(error.description.contains(name))
            #expect(error.description.contains("must be"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        // Clamping always yields valid parameters, and a sampler accepts them.
        #expect(throws: Never.self) { try parameters.clamped().validate() }
        var sampler = Sampler(parameters: parameters, vocabularySize: 4)
        let token = sampler.sample(logits: [0.1, 0.4, 0.2, 0.3])
        #expect((0..<4).contains(token))
    }

    @Test func codableFillsDefaults() throws {
        let json = #"{"temperature": 0.5, "topK": 40, "seed": 42}"#
        let decoded = try JSONDecoder().decode(SamplingParameters.self, from: Data(json.utf8))
        #expect(decoded == SamplingParameters(temperature: 0.5, topK: 40, seed: 42))
        let full = SamplingParameters(temperature: 0.8, topK: 5, topP: 0.9, minP: 0.1, repetitionPenalty: 1.2,
                                      repetitionWindow: 32, frequencyPenalty: 0.5, presencePenalty: -0.5, seed: 9)
        let roundTrip = try JSONDecoder().decode(SamplingParameters.self, from: JSONEncoder().encode(full))
        #expect(roundTrip == full)
        let empty = try JSONDecoder().decode(SamplingParameters.self, from: Data("{}".utf8))
        #expect(empty == SamplingParameters())
    }
}
