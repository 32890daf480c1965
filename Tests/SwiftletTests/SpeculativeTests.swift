import Foundation
import Testing
@testable import Swiftlet

@Suite("Speculative decoding")
struct SpeculativeTests {
    static let vocabulary = 16

    /// Softmax of seeded random logits over the test vocabulary.
    static func randomDistribution(_ rng: inout SeededGenerator, sharpness: Float) -> [Float] {
        let logits = (0..<vocabulary).map { _ in (rng.nextFloat() * 2 - 1) * sharpness }
        let m = logits.max()!
        let e = logits.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func totalVariation(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) } / 2
    }

    /// First-token histogram of speculative sampling with k drafts drawn from q, given the
    /// acceptance rule; target p_i at every position (position-independent here).
    static func firstTokenHistogram(p: [Float], q: [Float], k: Int, samples: Int, acceptance: @escaping (Float, Float) -> Float) -> [Double] {
        var counts = [Double](repeating: 0, count: vocabulary)
        var sampler = Sampler(parameters: SamplingParameters(temperature: 1, seed: 1234), vocabularySize: vocabulary)
        var drafter = SeededGenerator(seed: 77)
        var scratch = [Float](repeating: 0, count: vocabulary)
        for _ in 0..<samples {
            var tokens: [Int32] = []
            for _ in 0..<k {
                let u = drafter.nextDouble()
                var cumulative = 0.0
                var pick = vocabulary - 1
                for (t, w) in q.enumerated() { cumulative += Double(w); if cumulative > u { pick = t; break } }
                tokens.append(Int32(pick))
            }
            let proposal = DraftProposal(tokens: tokens, distributions: Array(repeating: q, count: k))
            let output = scratch.withUnsafeMutableBufferPointer { buffer in
                SpeculativeVerifier.verify(proposal: proposal, vocabularySize: vocabulary, sampler: &sampler, scratch: buffer,
                                           acceptance: acceptance) { _, into in _ = into.update(fromContentsOf: p) }
            }
            counts[Int(output.tokens[0])] += 1
        }
        return counts.map { $0 / Double(samples) }
    }

    /// The verifier's output has the target's distribution, whatever the draft's; a wrong
    /// acceptance rule (always accept, or plain p) makes the same test fail.
    @Test func speculativeSamplingHasTheTargetDistribution() {
        var rng = SeededGenerator(seed: 3)
        let p = Self.randomDistribution(&rng, sharpness: 2)
        let q = Self.randomDistribution(&rng, sharpness: 3)  // deliberately different
        let exact = p.map(Double.init)
        let n = 20_000
        let correct = Self.firstTokenHistogram(p: p, q: q, k: 3, samples: n) { p, q in min(1, p / q) }
        let tv = Self.totalVariation(correct, exact)
        #expect(tv < 0.02, "TV \(tv)")
        // Negative controls: must be far from p.
        let alwaysAccept = Self.firstTokenHistogram(p: p, q: q, k: 3, samples: n) { _, _ in 1 }
        #expect(Self.totalVariation(alwaysAccept, exact) > 0.05)
        let acceptByP = Self.firstTokenHistogram(p: p, q: q, k: 3, samples: n) { p, _ in p }
        #expect(Self.totalVariation(acceptByP, exact) > 0.05)
    }

    /// A Llama model without a tokenizer (vocabulary 16), made in the test.
    static func smallVocabularyModel(seed: UInt64) throws -> LoadedModel {
        var rng = SeededGenerator(seed: seed)
        func random(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { _ in (rng.nextFloat() * 2 - 1) * scale } }
        let (d, h, v) = (16, 32, vocabulary)
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        for (key, value) in [("embedding_length", d), ("block_count", 1), ("feed_forward_length", h),
                             ("attention.head_count", 2), ("attention.head_count_kv", 1), ("context_length", 64)] {
            w.add("llama.\(key)", .uint32(UInt32(value)))
        }
        w.addTensor("token_embd.weight", dimensions: [d, v], floats: random(d * v, 1))
        w.addTensor("blk.0.attn_norm.weight", dimensions: [d], floats: Array(repeating: 1, count: d))
        w.addTensor("blk.0.attn_q.weight", dimensions: [d, d], floats: random(d * d, 0.5))
        w.addTensor("blk.0.attn_k.weight", dimensions: [d, 8], floats: random(d * 8, 0.5))
        w.addTensor("blk.0.attn_v.weight", dimensions: [d, 8], floats: random(d * 8, 0.5))
        w.addTensor("blk.0.attn_output.weight", dimensions: [d, d], floats: random(d * d, 0.5))
        w.addTensor("blk.0.ffn_norm.weight", dimensions: [d], floats: Array(repeating: 1, count: d))
        w.addTensor("blk.0.ffn_gate.weight", dimensions: [d, h], floats: random(d * h, 0.5))
        w.addTensor("blk.0.ffn_up.weight", dimensions: [d, h], floats: random(d * h, 0.5))
        w.addTensor("blk.0.ffn_down.weight", dimensions: [h, d], floats: random(d * h, 0.5))
        w.addTensor("output_norm.weight", dimensions: [d], floats: Array(repeating: 1, count: d))
        w.addTensor("output.weight", dimensions: [d, v], floats: random(d * v, 1.5))
        return try TestModels.load(w.serialized())
    }

    /// Through the engine: the first two sampled tokens after a prompt follow the target's
    /// exact distributions (computed from its logits) with a deliberately different draft model.
    @Test(.timeLimit(.minutes(3)))
    func engineSamplingWithADraftModelHasTheTargetDistribution() async throws {
        let target = try Self.smallVocabularyModel(seed: 1)
        let draft = try Self.smallVocabularyModel(seed: 2)
        let prompt: [Int32] = [3, 7, 1]
        // Exact marginals of the first and second generated token.
        let transformer = try Transformer(weights: target.weights, maxBatchTokens: 8, threadCount: 1)
        let cache = try PagedKVCache(configuration: target.configuration, blockSize: 8, blockCount: 2)
        let table = [cache.blocks.allocate()!]
        func probabilities(_ tokens: [Int32]) -> [Double] {
            var batch = TokenBatch()
            let s = batch.addSequence(blockTable: table)
            for (i, t) in tokens.enumerated() { batch.append(token: t, position: i, sequence: s, wantsLogits: i == tokens.count - 1) }
            let row = transformer.forward(batch, cache: cache).row(0).map(Double.init)
            let m = row.max()!
            let e = row.map { Foundation.exp($0 - m) }
            let sum = e.reduce(0, +)
            return e.map { $0 / sum }
        }
        let first = probabilities(prompt)
        var second = [Double](repeating: 0, count: Self.vocabulary)
        for t in 0..<Self.vocabulary {
            let next = probabilities(prompt + [Int32(t)])
            for u in 0..<Self.vocabulary { second[u] += first[t] * next[u] }
        }
        let engine = try Engine(model: target, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 512, maxSequences: 128, kvCacheBlocks: 512, maxDraftTokens: 3, adaptiveDraftLength: false), drafting: .model(draft))
        defer { engine.shutdown() }
        let n = 20_000
        var counts = [[Double]](repeating: [Double](repeating: 0, count: Self.vocabulary), count: 2)
        var proposed = 0
        try await withThrowingTaskGroup(of: GenerationResult.self) { group in
            var submitted = 0
            func add() {
                let seed = UInt64(submitted)
                group.addTask {
                    try await engine.complete(prompt: .tokens(prompt), parameters: GenerationParameters(
                        maxTokens: 4, sampling: SamplingParameters(temperature: 1, topP: 1, seed: seed), ignoreEOS: true))
                }
                submitted += 1
            }
            for _ in 0..<256 { add() }
            while let result = try await group.next() {
                counts[0][Int(result.tokens[0])] += 1
                counts[1][Int(result.tokens[1])] += 1
                proposed += result.metrics.draftTokensProposed
                if submitted < n { add() }
            }
        }
        #expect(proposed > n)
        let tv0 = Self.totalVariation(counts[0].map { $0 / Double(n) }, first)
        let tv1 = Self.totalVariation(counts[1].map { $0 / Double(n) }, second)
        #expect(tv0 < 0.02, "first token TV \(tv0)")
        #expect(tv1 < 0.02, "second token TV \(tv1)")
    }

    /// Greedy speculative decoding is token-identical to plain decoding, single-stream and
    /// in a batch, at several draft lengths, with a model drafter and with prompt lookup.
    @Test(.timeLimit(.minutes(3)))
    func greedySpeculationIsTokenIdenticalToPlainDecoding() async throws {
        let target = try TestModels.load(TestModels.tiny(seed: 7))
        let draft = try TestModels.load(TestModels.tiny(dimension: 16, layers: 1, heads: 2, kvHeads: 1, hidden: 24, seed: 8))
        var rng = SeededGenerator(seed: 21)
        let prompts: [[Int32]] = (0..<8).map { _ in [1] + (0..<(2 + Int(rng.next() % 20))).map { _ in Int32(3 + rng.next() % 290) } }
        let lengths = prompts.map { _ in 20 + Int(rng.next() % 40) }
        let plain = try await soloOutputs(target, prompts: prompts, maxTokens: lengths)
        for drafting in [Drafting.model(draft), .promptLookup] {
            for k in [1, 2, 4, 8] {
                let engine = try Engine(model: target, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 128, maxSequences: 16, kvCacheBlocks: 256, maxDraftTokens: k, adaptiveDraftLength: false), drafting: drafting)
                defer { engine.shutdown() }
                // Single stream.
                for i in 0..<3 {
                    let r = try await engine.complete(prompt: .tokens(prompts[i]), parameters: GenerationParameters(maxTokens: lengths[i], sampling: .greedy, ignoreEOS: true))
                    #expect(r.tokens == plain[i], "k \(k), single \(i)")
                }
                // Inside a batch.
                let batched = try await PrefixCacheTests.runAllWithLengths(engine, prompts, lengths)
                for i in prompts.indices { #expect(batched[i].tokens == plain[i], "k \(k), batched \(i)") }
                let m = engine.currentMetrics
                #expect(m.kvBlocksUsed == 0 || m.runningRequests > 0)
            }
        }
    }

    /// 500 speculative requests with random cancellations leave no KV block in use, in the
    /// target's cache or the drafter's.
    @Test(.timeLimit(.minutes(3)))
    func noBlockLeaksAfterCancelledSpeculativeRequests() async throws {
        let target = try TestModels.load(TestModels.tiny(seed: 7))
        let draftModel = try TestModels.load(TestModels.tiny(dimension: 16, layers: 1, heads: 2, kvHeads: 1, hidden: 24, seed: 8))
        let engine = try Engine(model: target, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 64, maxSequences: 16, kvCacheBlocks: 48, blockSize: 4, maxDraftTokens: 4, adaptiveDraftLength: false), drafting: .model(draftModel))
        defer { engine.shutdown() }
        var rng = SeededGenerator(seed: 31)
        let prompts: [[Int32]] = (0..<500).map { _ in [1] + (0..<Int(rng.next() % 12)).map { _ in Int32(3 + rng.next() % 290) } }
        let cancel: [Int?] = prompts.map { _ in rng.next() % 3 == 0 ? Int(rng.next() % 6) : nil }
        let temperature: [Float] = prompts.map { _ in rng.next() % 2 == 0 ? 0 : 0.8 }
        _ = try await runWithCancellations(engine, prompts: prompts, lengths: Array(repeating: 12, count: prompts.count), cancelAfter: cancel) {
            SamplingParameters(temperature: temperature[$0], seed: UInt64($0))
        }
        let metrics = try await idleMetrics(engine)
        #expect(metrics.kvBlocksUsed == 0)
        #expect(engine.draftBlocksInUse == 0)
    }

    @Test func promptLookupProposesWhatFollowedTheLastMatch() {
        let drafter = PromptLookupDrafter(maxNgram: 3, minNgram: 1)
        #expect(drafter.lookup([1, 2, 3, 4, 5, 2, 3], count: 2) == [4, 5])
        #expect(drafter.lookup([1, 2, 3, 9, 2, 3, 7, 2, 3], count: 3) == [7, 2, 3])
        #expect(drafter.lookup([5, 6, 7], count: 3) == [])
        #expect(drafter.lookup([4, 4], count: 3) == [4])
    }

    @Test func draftModelWithAnotherVocabularyIsRefused() throws {
        let target = try TestModels.load(TestModels.tiny(vocabulary: 300))
        let other = try TestModels.load(TestModels.tiny(vocabulary: 280))
        #expect(throws: GenerationError.self) { try Engine(model: target, drafting: .model(other)) }
    }

    @Test func policyDraftsLessWhenTheTargetStepIsComputeBound() {
        var memoryBound = SpeculationPolicy(maxDraftTokens: 8, adaptive: true)
        memoryBound.targetCosts = CostTable(sizes: [1, 64], seconds: [1.0, 1.2])
        #expect(memoryBound.draftLength(acceptanceRates: [0.8], otherTokens: 0, draftSeconds: { _ in 0.05 }) >= 3)
        var computeBound = SpeculationPolicy(maxDraftTokens: 8, adaptive: true)
        computeBound.targetCosts = CostTable(sizes: [1, 64, 512], seconds: [1.0, 64, 512])
        #expect(computeBound.draftLength(acceptanceRates: [0.6, 0.6], otherTokens: 0, draftSeconds: { _ in 0.5 }) == 0)
        // Large decoding batches never speculate.
        #expect(memoryBound.draftLength(acceptanceRates: Array(repeating: 0.9, count: 16), otherTokens: 0, draftSeconds: { _ in 0.05 }) == 0)
        #expect(memoryBound.draftLength(acceptanceRates: [0.05], otherTokens: 0, draftSeconds: { _ in 0.3 }) == 0)
    }

    /// Observed steps move their size's cost toward what they took and add the sizes the
    /// start-up measurement did not have, so the policy follows the costs of real steps.
    @Test func costTableFollowsObservedSteps() {
        var table = CostTable(sizes: [1, 4], seconds: [1.0, 2.0])
        #expect(table.seconds(tokens: 3) == 1.0 + 2.0 / 3)
        for _ in 0..<200 { table.observe(tokens: 1, seconds: 1.5) }
        #expect(abs(table.seconds(tokens: 1) - 1.5) < 1e-6)
        table.observe(tokens: 3, seconds: 3.0)
        #expect(table.seconds(tokens: 3) == 3.0)
        #expect(abs(table.seconds(tokens: 2) - 2.25) < 1e-6)  // between the observed 1 and 3
        #expect(abs(table.seconds(tokens: 4) - 2.0) < 1e-12)
        // One observation moves a size a tenth of the way; nonsense is ignored.
        table.observe(tokens: 4, seconds: 12.0)
        #expect(abs(table.seconds(tokens: 4) - 3.0) < 1e-12)
        table.observe(tokens: 4, seconds: .nan)
        table.observe(tokens: 0, seconds: 1)
        table.observe(tokens: 2, seconds: -1)
        #expect(abs(table.seconds(tokens: 4) - 3.0) < 1e-12 && abs(table.seconds(tokens: 2) - 2.25) < 1e-6)
        // A prompt chunk of a size the table lacks does not add one (the table stays small).
        let before = table.seconds(tokens: 100)
        table.observe(tokens: 100, seconds: 50)
        #expect(table.seconds(tokens: 100) == before)
    }

    /// With the pair's measured costs (a 3-token verification 1.3 plain steps, a draft step
    /// 0.07) and its per-token acceptance of 0.7, drafting pays and is chosen.
    @Test func policyDraftsAtTheShippedPairsCosts() {
        var policy = SpeculationPolicy(maxDraftTokens: 8, adaptive: true)
        policy.targetCosts = CostTable(sizes: [1, 2, 3, 4, 5, 9], seconds: [1.0, 1.12, 1.3, 1.45, 1.6, 2.4])
        let k = policy.draftLength(acceptanceRates: [0.7], otherTokens: 0, draftSeconds: { _ in 0.07 })
        #expect((1...4).contains(k), "k \(k)")
        // At a quarter the predicted gain is below the threshold.
        #expect(policy.draftLength(acceptanceRates: [0.25], otherTokens: 0, draftSeconds: { _ in 0.07 }) == 0)
    }
}

extension PrefixCacheTests {
    static func runAllWithLengths(_ engine: Engine, _ prompts: [[Int32]], _ lengths: [Int]) async throws -> [GenerationResult] {
        try await withThrowingTaskGroup(of: (Int, GenerationResult).self) { group in
            for (i, prompt) in prompts.enumerated() {
                group.addTask { (i, try await engine.complete(prompt: .tokens(prompt), parameters: GenerationParameters(maxTokens: lengths[i], sampling: .greedy, ignoreEOS: true))) }
            }
            var out = [GenerationResult?](repeating: nil, count: prompts.count)
            for try await (i, r) in group { out[i] = r }
            return out.map { $0! }
        }
    }
}
