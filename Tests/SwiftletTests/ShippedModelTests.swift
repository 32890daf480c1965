import Foundation
import Testing
@testable import Swiftlet

/// The checkpoint pair shipped in Models/ (trained by Models/train).
@Suite("Shipped models")
struct ShippedModelTests {
    static let target = PackageFiles.path("Models/shakespeare-target.gguf")
    static let draft = PackageFiles.path("Models/shakespeare-draft.gguf")

    struct Reference: Decodable {
        struct Entry: Decodable {
            let prompt_ids: [Int32]
            let greedy_ids: [Int32]
        }
        let target: Entry
        let draft: Entry
    }

    @Test func targetAndDraftShareTheVocabularyAndHaveTheDocumentedShapes() throws {
        let target = try ModelLoader.load(path: Self.target)
        let draft = try ModelLoader.load(path: Self.draft)
        let targetTokens = try #require(try target.metadata?.stringArray("tokenizer.ggml.tokens"))
        let draftTokens = try #require(try draft.metadata?.stringArray("tokenizer.ggml.tokens"))
        #expect(targetTokens == draftTokens)
        #expect(target.configuration.vocabularySize == draft.configuration.vocabularySize)
        #expect(target.configuration.contextLength >= 512)
        let parameters = target.configuration.parameterCount
        #expect(parameters >= 15_000_000 && parameters <= 30_000_000, "target has \(parameters) parameters")
        // F16 matrices are multiplied as stored: two bytes per weight read per token.
        #expect(target.weights.layers.allSatisfy { $0.query.format.type == .f16 && $0.down.format.type == .f16 })
        #expect(target.weights.classifier.format.type == .f16)
        #expect(target.weights.bytesPerToken <= 2 * parameters)
        // The draft costs at most a tenth of the target's per-token FLOPs.
        #expect(draft.weights.bytesPerToken * 10 <= target.weights.bytesPerToken)
        let size = try FileManager.default.attributesOfItem(atPath: Self.target)[.size] as! Int
            + (try FileManager.default.attributesOfItem(atPath: Self.draft)[.size] as! Int)
        #expect(size < 40 << 20)
    }

    /// Greedy generation from "ROMEO:" reproduces the ids the trainer's float64 NumPy
    /// reference computed from the exported weights.
    @Test func greedyGenerationMatchesTheTrainersReference() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: PackageFiles.path("Models/train/reference.json")))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        for (path, entry) in [(Self.target, reference.target), (Self.draft, reference.draft)] {
            let engine = try Engine(model: ModelLoader.load(path: path), configuration: EngineConfiguration(threadCount: 2, kvCacheMegabytes: 64))
            defer { engine.shutdown() }
            #expect(try engine.tokens(for: .text("ROMEO:")) == entry.prompt_ids)
            let result = try await engine.complete(prompt: .tokens(entry.prompt_ids), parameters: GenerationParameters(maxTokens: 16, sampling: .greedy, ignoreEOS: true))
            #expect(result.tokens == Array(entry.greedy_ids.prefix(16)), "\(path)")
        }
    }

    @Test func shippedPairSpeculatesExactly() async throws {
        let target = try ModelLoader.load(path: Self.target)
        let draft = try ModelLoader.load(path: Self.draft)
        let plain = try Engine(model: target, configuration: EngineConfiguration(threadCount: 2, kvCacheMegabytes: 64))
        defer { plain.shutdown() }
        let fast = try Engine(model: target, configuration: EngineConfiguration(threadCount: 2, kvCacheMegabytes: 64, maxDraftTokens: 4, adaptiveDraftLength: false), drafting: .model(draft))
        defer { fast.shutdown() }
        let parameters = GenerationParameters(maxTokens: 64, sampling: .greedy, ignoreEOS: true)
        let a = try await plain.complete(prompt: .text("JULIET:"), parameters: parameters)
        let b = try await fast.complete(prompt: .text("JULIET:"), parameters: parameters)
        #expect(a.tokens == b.tokens)
        #expect(b.metrics.draftTokensAccepted > 0)
        // The step costs speculation trades: every step here is a decode-sized step (the
        // prompt is a few tokens), and only the speculative engine spends time drafting.
        let plainMetrics = await plain.idleMetrics(), fastMetrics = await fast.idleMetrics()
        #expect(plainMetrics.decodeSteps == plainMetrics.steps && plainMetrics.decodeSteps >= 63)
        #expect(plainMetrics.draftedSteps == 0 && plainMetrics.draftSeconds == 0)
        #expect(fastMetrics.decodeSteps == fastMetrics.steps && fastMetrics.decodeStepSeconds > 0)
        #expect(fastMetrics.draftedSteps > 0 && fastMetrics.draftedSteps <= fastMetrics.steps && fastMetrics.draftSeconds > 0)
        #expect(fastMetrics.steps < plainMetrics.steps)
    }
}
