import Foundation
import Testing
@testable import Swiftlet

/// Each architecture against llama.cpp: random-weight GGUFs with the tensors and metadata
/// llama.cpp's converter writes (Tests/Fixtures/architectures/make_fixtures.py), and the
/// greedy ids and top-10 probabilities llama.cpp computed for them (record_llama_cpp.c).
@Suite("Architectures against llama.cpp")
struct ArchitectureFixtureTests {
    static let names = ["llama3", "llama-tied", "qwen2", "phi3", "gemma3"]

    struct Expected: Decodable {
        let prompt_ids: [Int32]
        let greedy_ids: [Int32]
        let top2_logprob_gaps: [Double]
        /// `(steps, 10)` pairs of token id and probability.
        let top_probabilities: [[[Double]]]
    }

    static func model(_ name: String) throws -> LoadedModel {
        try ModelLoader.load(path: PackageFiles.path("Tests/Fixtures/architectures/\(name).gguf"))
    }

    static func expected(_ name: String) throws -> Expected {
        let data = try Data(contentsOf: URL(fileURLWithPath: PackageFiles.path("Tests/Fixtures/architectures/\(name).json")))
        return try JSONDecoder().decode(Expected.self, from: data)
    }

    /// Prompt, then llama.cpp's greedy tokens one at a time (so every step sees llama.cpp's
    /// context): Swiftlet's argmax equals llama.cpp's token up to the first step whose top-2
    /// log-probability gap is below 0.01, and the probabilities of llama.cpp's top 10 of the
    /// first 8 steps are within 2e-3.
    @Test(arguments: names, KernelTests.paths)
    func greedyIdsAndTopProbabilitiesMatchLlamaCpp(name: String, path: KernelPath) throws {
        let model = try Self.model(name)
        let expected = try Self.expected(name)
        #expect(model.configuration.architecture == (name.hasPrefix("llama") ? "llama" : name))
        let transformer = try Transformer(weights: model.weights, maxBatchTokens: 64, maxContext: 64, threadCount: 2, kernels: Kernels(path: path))
        let cache = try PagedKVCache(configuration: model.configuration, blockSize: 4, blockCount: 16, type: .f32)
        let table = (0..<16).map { _ in cache.blocks.allocate()! }
        var pending = expected.prompt_ids
        var position = 0
        var comparedIds = 0, worst = 0.0
        for step in expected.greedy_ids.indices {
            var batch = TokenBatch()
            let sequence = batch.addSequence(blockTable: table)
            for (i, token) in pending.enumerated() {
                batch.append(token: token, position: position + i, sequence: sequence, wantsLogits: i == pending.count - 1)
            }
            position += pending.count
            let logits = transformer.forward(batch, cache: cache).row(0).map(Double.init)
            let top = logits.max()!
            let sum = logits.reduce(0) { $0 + exp($1 - top) }
            if step < expected.top_probabilities.count {
                for pair in expected.top_probabilities[step] {
                    let probability = exp(logits[Int(pair[0])] - top) / sum
                    worst = max(worst, abs(probability - pair[1]))
                    #expect(abs(probability - pair[1]) < 2e-3, "\(name) \(path) step \(step) token \(Int(pair[0])): \(probability) vs \(pair[1])")
                }
            }
            if comparedIds == step && expected.top2_logprob_gaps[step] >= 0.01 {
                let argmax = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
                #expect(argmax == expected.greedy_ids[step], "\(name) \(path) step \(step)")
                comparedIds += 1
            }
            pending = [expected.greedy_ids[step]]
        }
        #expect(comparedIds > 8, "\(name): only \(comparedIds) ids compared")
        print("\(name) \(path.rawValue): \(comparedIds) greedy ids equal llama.cpp's; worst top-10 probability difference \(worst)")
    }

    /// The same tokens give bit-identical logits alone in one step and split into chunks
    /// mixed with another sequence's tokens (block size 4, so windows cross blocks).
    @Test(arguments: names)
    func logitsDoNotDependOnTheBatch(name: String) throws {
        let model = try Self.model(name)
        let c = model.configuration
        let transformer = try Transformer(weights: model.weights, maxBatchTokens: 64, maxContext: 64, threadCount: 2)
        let tokens: [Int32] = (0..<23).map { Int32(3 + ($0 * 37) % 290) }
        let other: [Int32] = (0..<23).map { Int32(5 + ($0 * 53) % 290) }
        func run(chunk: Int, mixed: Bool) throws -> [[Float]] {
            let cache = try PagedKVCache(configuration: c, blockSize: 4, blockCount: 32, type: .f32)
            let tableA = (0..<8).map { _ in cache.blocks.allocate()! }, tableB = (0..<8).map { _ in cache.blocks.allocate()! }
            var rows: [[Float]] = []
            var start = 0
            while start < tokens.count {
                let end = min(tokens.count, start + chunk)
                var batch = TokenBatch()
                if mixed {
                    let b = batch.addSequence(blockTable: tableB)
                    for p in start..<end { batch.append(token: other[p], position: p, sequence: b, wantsLogits: p % 2 == 0) }
                }
                let a = batch.addSequence(blockTable: tableA)
                for p in start..<end { batch.append(token: tokens[p], position: p, sequence: a, wantsLogits: true) }
                let logits = transformer.forward(batch, cache: cache)
                let firstA = mixed ? (start..<end).filter { $0 % 2 == 0 }.count : 0
                for r in 0..<(end - start) { rows.append(Array(logits.row(firstA + r))) }
                start = end
            }
            return rows
        }
        let alone = try run(chunk: tokens.count, mixed: false)
        #expect(try run(chunk: 3, mixed: true) == alone, "\(name): chunks of 3 beside another sequence")
        #expect(try run(chunk: 1, mixed: true) == alone, "\(name): one token per step beside another sequence")
    }

    /// Through the engine: outputs with the prefix cache on equal those with it off, and
    /// batched requests (with preemption from a small cache) equal solo runs.
    @Test(arguments: names)
    func prefixCacheAndBatchingKeepOutputs(name: String) async throws {
        let model = try Self.model(name)
        let shared: [Int32] = [1] + (0..<13).map { (j: Int) -> Int32 in Int32(3 + (j * 31) % 290) }
        var prompts: [[Int32]] = []
        for i in 0..<6 {
            let tail: [Int32] = (0..<(1 + i)).map { j in Int32(7 + (j * 17 + i * 29) % 290) }
            prompts.append(shared + tail)
        }
        let solo = try await soloOutputs(model, prompts: prompts, maxTokens: prompts.map { _ in 12 })
        for caching in [false, true] {
            let engine = try PrefixCacheTests.engine(model, caching: caching, blocks: 24, blockSize: 4, maxBatchTokens: 16, maxSequences: 6)
            defer { engine.shutdown() }
            let first = try await PrefixCacheTests.runAll(engine, prompts, maxTokens: 12)
            let second = try await PrefixCacheTests.runAll(engine, prompts, maxTokens: 12)
            for i in prompts.indices {
                #expect(first[i].tokens == solo[i], "\(name) caching \(caching) request \(i)")
                #expect(second[i].tokens == solo[i], "\(name) caching \(caching) request \(i), second round")
            }
        }
    }

    /// Greedy speculation (prompt lookup) gives plain decoding's tokens on every architecture.
    @Test(arguments: names)
    func speculationKeepsOutputs(name: String) async throws {
        let model = try Self.model(name)
        let counting: [Int32] = (0..<10).map { (j: Int) -> Int32 in Int32(3 + j * 23) }
        let prompts: [[Int32]] = [[1, 9, 8, 7, 9, 8, 7, 9, 8], [1] + counting]
        let plain = try await soloOutputs(model, prompts: prompts, maxTokens: [20, 20])
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 64, maxSequences: 4, kvCacheBlocks: 64,
                                                                                 maxDraftTokens: 4, adaptiveDraftLength: false),
                                drafting: .promptLookup)
        defer { engine.shutdown() }
        for (i, prompt) in prompts.enumerated() {
            let r = try await engine.complete(prompt: .tokens(prompt), parameters: GenerationParameters(maxTokens: 20, sampling: .greedy, ignoreEOS: true))
            #expect(r.tokens == plain[i], "\(name) prompt \(i)")
        }
    }
}
