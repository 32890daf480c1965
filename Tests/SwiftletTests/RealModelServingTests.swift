import Foundation
import Testing
@testable import Swiftlet

/// Batching, prefix caching and speculation on real checkpoints: the shipped Shakespeare
/// pair and the ../shared reference model (skipped where ../shared is absent).
@Suite("Serving real models")
struct RealModelServingTests {
    static func prompts(_ tokenizer: (any Tokenizer)?, vocabulary: Int, count: Int, seed: UInt64) -> [[Int32]] {
        var rng = SeededGenerator(seed: seed)
        let shared: [Int32] = [1] + (0..<37).map { _ in Int32(3 + rng.next() % UInt64(vocabulary - 3)) }
        return (0..<count).map { i in
            // Mixed lengths; every other prompt shares a 37-token prefix (ends mid-block).
            let own = (0..<(1 + Int(rng.next() % 40))).map { _ in Int32(3 + rng.next() % UInt64(vocabulary - 3)) }
            return i % 2 == 0 ? shared + own : [1] + own
        }
    }

    static func runConcurrently(_ engine: Engine, _ prompts: [[Int32]], maxTokens: Int) async throws -> [[Int32]] {
        try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
            for (i, prompt) in prompts.enumerated() {
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(i % 5) * 1_000_000)
                    let r = try await engine.complete(prompt: .tokens(prompt), parameters: GenerationParameters(maxTokens: maxTokens, sampling: .greedy, ignoreEOS: true))
                    return (i, r.tokens)
                }
            }
            var out = [[Int32]](repeating: [], count: prompts.count)
            for try await (i, tokens) in group { out[i] = tokens }
            return out
        }
    }

    /// 32 mixed requests, staggered, chunked prefill, with the prefix cache on and off, and
    /// with either KV cache type: every request generates exactly its solo ids.
    @Test(arguments: ["Models/shakespeare-target.gguf", "../shared/fixtures/models/tinygqa.gguf"], KVCacheType.allCases)
    func batchedAndPrefixCachedOutputsEqualSoloOutputs(file: String, kvCacheType: KVCacheType) async throws {
        let path = SharedFixtures.packageRoot.appendingPathComponent(file).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: path) else {
            #expect(file.hasPrefix("../shared"), "missing \(file)")
            return  // ../shared is absent in a user's clone
        }
        let model = try ModelLoader.load(path: path)
        let prompts = Self.prompts(nil, vocabulary: model.configuration.vocabularySize, count: 32, seed: 3)
        let solo = try await soloOutputs(model, prompts: prompts, maxTokens: Array(repeating: 24, count: 32), kvCacheType: kvCacheType)
        for caching in [true, false] {
            let engine = try Engine(model: model, configuration: EngineConfiguration(
                threadCount: 2, maxBatchTokens: 48, maxSequences: 16, kvCacheBlocks: 256, kvCacheType: kvCacheType, prefixCaching: caching))
            defer { engine.shutdown() }
            let batched = try await Self.runConcurrently(engine, prompts, maxTokens: 24)
            for i in prompts.indices { #expect(batched[i] == solo[i], "\(file), \(kvCacheType), cache \(caching), request \(i)") }
            if caching { #expect(engine.currentMetrics.prefixHitTokens > 0) }
        }
    }

    /// The shipped pair, 20 prompts x 256 tokens: speculative greedy ids equal plain ones
    /// at K = 1, 2, 4, 8, single stream and inside a 16-request batch.
    @Test(.timeLimit(.minutes(5)))
    func shippedPairSpeculationIsExact() async throws {
        let target = try ModelLoader.load(path: ShippedModelTests.target)
        let draft = try ModelLoader.load(path: ShippedModelTests.draft)
        let texts = ["ROMEO:", "JULIET:", "HAMLET:", "First Citizen:", "KING HENRY:", "Enter MACBETH", "OTHELLO:", "What light",
                     "To be, or not", "Now is the winter", "Friends, Romans", "If music be", "All the world", "O, what a rogue",
                     "The quality of mercy", "Good night, good night", "Once more unto", "Is this a dagger", "Shall I compare", "Lord, what fools"]
        let plainEngine = try Engine(model: target, configuration: EngineConfiguration(threadCount: 2, maxSequences: 20, kvCacheMegabytes: 128))
        defer { plainEngine.shutdown() }
        let prompts = try texts.map { try plainEngine.tokens(for: .text($0)) }
        let plain = try await Self.runConcurrently(plainEngine, prompts, maxTokens: 256)
        for k in [1, 2, 4, 8] {
            let engine = try Engine(model: target, configuration: EngineConfiguration(
                threadCount: 2, maxSequences: 16, kvCacheMegabytes: 128, maxDraftTokens: k, adaptiveDraftLength: false), drafting: .model(draft))
            defer { engine.shutdown() }
            for i in [0, 7, 13] {  // single stream
                let r = try await engine.complete(prompt: .tokens(prompts[i]), parameters: GenerationParameters(maxTokens: 256, sampling: .greedy, ignoreEOS: true))
                #expect(r.tokens == plain[i], "K \(k), single \(i)")
                #expect(r.metrics.draftTokensAccepted > 0)
            }
            let batched = try await Self.runConcurrently(engine, prompts, maxTokens: 256)  // 16 at a time
            for i in prompts.indices { #expect(batched[i] == plain[i], "K \(k), batched \(i)") }
        }
    }
}
