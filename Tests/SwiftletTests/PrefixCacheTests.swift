import Foundation
import Testing
@testable import Swiftlet

@Suite("Prefix cache")
struct PrefixCacheTests {
    static func engine(_ model: LoadedModel, caching: Bool, blocks: Int = 512, blockSize: Int = 16, maxBatchTokens: Int = 64, maxSequences: Int = 16) throws -> Engine {
        try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: maxBatchTokens, maxSequences: maxSequences,
                                                                    kvCacheBlocks: blocks, blockSize: blockSize, prefixCaching: caching))
    }

    static func runAll(_ engine: Engine, _ prompts: [[Int32]], maxTokens: Int) async throws -> [GenerationResult] {
        try await withThrowingTaskGroup(of: (Int, GenerationResult).self) { group in
            for (i, prompt) in prompts.enumerated() {
                group.addTask { (i, try await engine.complete(prompt: .tokens(prompt), parameters: GenerationParameters(maxTokens: maxTokens, sampling: .greedy, ignoreEOS: true))) }
            }
            var out = [GenerationResult?](repeating: nil, count: prompts.count)
            for try await (i, r) in group { out[i] = r }
            return out.map { $0! }
        }
    }

    @Test func blockPoolSharesEvictsLeastRecentlyReleasedAndInvalidatesChildren() {
        let pool = BlockPool(blockCount: 3)
        let a = pool.allocate()!, b = pool.allocate()!
        pool.register(a, parent: -1, tokens: [1, 2], computed: true)
        pool.register(b, parent: a, tokens: [3, 4], computed: true)
        #expect(pool.lookup([1, 2, 3, 4, 5], blockSize: 2, maxBlocks: 2).blocks == [a, b])
        #expect(pool.lookup([1, 2, 9, 9], blockSize: 2, maxBlocks: 2).blocks == [a])
        #expect(pool.lookup([1, 2, 3, 4], blockSize: 2, maxBlocks: 1).blocks == [a])
        pool.retain(a)
        #expect(pool.referenceCount(a) == 2)
        pool.release(a); pool.release(a); pool.release(b)
        #expect(pool.usedBlockCount == 0 && pool.evictableCount == 2)
        // Cached blocks come back on a hit...
        pool.retain(a)
        #expect(pool.evictableCount == 1)
        pool.release(a)
        // ...and are evicted least recently released first once the free list is empty.
        let c = pool.allocate()!
        #expect(c != a && c != b)
        let d = pool.allocate()!
        #expect(d == b)  // b was released before a's second release
        #expect(pool.evictions == 1)
    }

    @Test func evictingAParentInvalidatesItsChildrenAndPendingBlocksAreNotShared() {
        let pool = BlockPool(blockCount: 2)
        let a = pool.allocate()!, b = pool.allocate()!
        pool.register(a, parent: -1, tokens: [1, 2], computed: true)
        pool.register(b, parent: a, tokens: [3, 4], computed: true)
        pool.release(a)
        pool.release(b)
        let reused = pool.allocate()!
        #expect(reused == a)  // least recently released
        #expect(pool.lookup([1, 2, 3, 4], blockSize: 2, maxBlocks: 2).blocks.isEmpty)
        // Same content again in the reused block: the old child does not match the new parent.
        pool.register(reused, parent: -1, tokens: [1, 2], computed: true)
        #expect(pool.lookup([1, 2, 3, 4], blockSize: 2, maxBlocks: 2).blocks == [a])
        // A pending block is not shared, and released before its step ran it is forgotten.
        let c = pool.allocate()!  // evicts b
        pool.register(c, parent: -1, tokens: [7, 7], computed: false)
        let lookup = pool.lookup([7, 7, 1], blockSize: 2, maxBlocks: 1)
        #expect(lookup.pending && lookup.blocks.isEmpty)
        pool.release(c)
        #expect(pool.lookup([7, 7, 1], blockSize: 2, maxBlocks: 1).blocks.isEmpty)
        #expect(pool.cachedBlockCount == 1)
        pool.markStepComputed()
        pool.release(a)
        #expect(pool.freeBlockCount == 2 && pool.usedBlockCount == 0)
    }

    /// Greedy ids are identical with the cache on and off: prefixes ending mid-block, exact
    /// block multiples, prompts entirely cached, requests arriving together and later.
    @Test func outputsAreIdenticalWithCacheOnAndOff() async throws {
        let model = try TestModels.load(TestModels.tiny())
        var rng = SeededGenerator(seed: 5)
        let prefix: [Int32] = [1] + (0..<40).map { _ in Int32(3 + rng.next() % 290) }
        var prompts: [[Int32]] = []
        for cut in [40, 41, 33, 32, 16, 17, 5] {
            prompts.append(Array(prefix.prefix(cut)) + (0..<Int(rng.next() % 9)).map { _ in Int32(3 + rng.next() % 290) })
        }
        prompts.append(prefix)
        prompts.append(prefix)  // entirely cached the second time
        let off = try Self.engine(model, caching: false)
        defer { off.shutdown() }
        let on = try Self.engine(model, caching: true)
        defer { on.shutdown() }
        let reference = try await Self.runAll(off, prompts, maxTokens: 12).map(\.tokens)
        let cold = try await Self.runAll(on, prompts, maxTokens: 12)
        let warm = try await Self.runAll(on, prompts, maxTokens: 12)
        for i in prompts.indices {
            #expect(cold[i].tokens == reference[i], "cold \(i)")
            #expect(warm[i].tokens == reference[i], "warm \(i)")
        }
        #expect(warm.allSatisfy { $0.metrics.cachedPromptTokenCount > 0 || $0.promptTokens.count <= 16 })
        #expect(on.currentMetrics.prefixHitTokens > 0)
        #expect(off.currentMetrics.prefixHitTokens == 0)
    }

    /// Eight requests arriving together with a shared prefix compute it once.
    @Test func coldRequestsComputeTheSharedPrefixOnce() async throws {
        let model = try TestModels.load(TestModels.tiny())
        var rng = SeededGenerator(seed: 8)
        let prefix: [Int32] = [1] + (0..<159).map { _ in Int32(3 + rng.next() % 290) }
        let prompts = (0..<8).map { _ in prefix + (0..<16).map { _ in Int32(3 + rng.next() % 290) } }
        let engine = try Self.engine(model, caching: true)
        defer { engine.shutdown() }
        _ = try await Self.runAll(engine, prompts, maxTokens: 4)
        let computed = engine.currentMetrics.promptTokensComputed
        #expect(computed < 160 + 8 * 32, "computed \(computed) prompt tokens")
    }

    /// 16 live requests sharing a 512-token prefix use at most 1/8 of the blocks they would use unshared.
    @Test func sharedPrefixUsesAFractionOfTheBlocks() async throws {
        let model = try TestModels.load(TestModels.tiny(context: 1024))
        var rng = SeededGenerator(seed: 9)
        let prefix: [Int32] = [1] + (0..<511).map { _ in Int32(3 + rng.next() % 290) }
        let prompts = (0..<16).map { _ in prefix + (0..<8).map { _ in Int32(3 + rng.next() % 290) } }
        let engine = try Self.engine(model, caching: true, blocks: 1024, maxBatchTokens: 512)
        defer { engine.shutdown() }
        // Warm the prefix, then run all 16 at once.
        _ = try await Self.runAll(engine, [prefix + [5]], maxTokens: 1)
        _ = try await Self.runAll(engine, prompts, maxTokens: 8)
        let unshared = 16 * ((512 + 8 + 8 + 15) / 16)
        let peak = engine.currentMetrics.peakKVBlocksUsed
        #expect(peak * 8 <= unshared, "peak \(peak) blocks, unshared would be \(unshared)")
    }

    /// 500 requests from a few shared prefixes, random cancellations, a small KV pool
    /// (preemption, eviction): finished outputs equal their solo outputs, and afterwards
    /// every block is free or cached with no user.
    @Test(.timeLimit(.minutes(3)))
    func stressWithSharingCancellationPreemptionAndEviction() async throws {
        let model = try TestModels.load(TestModels.tiny())
        var rng = SeededGenerator(seed: 500)
        let prefixes: [[Int32]] = (0..<4).map { _ in [1] + (0..<(8 + Int(rng.next() % 30))).map { _ in Int32(3 + rng.next() % 290) } }
        let count = 500
        let prompts: [[Int32]] = (0..<count).map { _ in
            prefixes[Int(rng.next() % 4)] + (0..<Int(rng.next() % 10)).map { _ in Int32(3 + rng.next() % 290) }
        }
        let lengths = (0..<count).map { _ in 1 + Int(rng.next() % 16) }
        let cancelAfter: [Int?] = (0..<count).map { _ in rng.next() % 5 == 0 ? Int(rng.next() % 4) : nil }
        let solo = try await soloOutputs(model, prompts: prompts, maxTokens: lengths)
        let engine = try Self.engine(model, caching: true, blocks: 40, blockSize: 4, maxBatchTokens: 48, maxSequences: 12)
        defer { engine.shutdown() }
        let results = try await runWithCancellations(engine, prompts: prompts, lengths: lengths, cancelAfter: cancelAfter)
        var finished = 0
        for i in 0..<count {
            guard let r = results[i], r.finishReason == .length else { continue }
            finished += 1
            #expect(r.tokens == solo[i], "request \(i)")
        }
        #expect(finished > count / 2)
        let metrics = try await idleMetrics(engine)
        #expect(metrics.kvBlocksUsed == 0)
        #expect(metrics.kvBlocksShared == 0)
        #expect(metrics.prefixHitTokens > 0)
        #expect(metrics.prefixEvictions > 0)
        #expect(metrics.preemptions > 0)
    }
}
