import Foundation
import Testing
@testable import Swiftlet

/// Request priorities in the scheduler, and the KV-cache manager it allocates through.
@Suite("Priority scheduling")
struct PrioritySchedulingTests {
    /// A model configuration for caches only (no weights needed).
    static func cache(blocks: Int, blockSize: Int = 4) throws -> PagedKVCache {
        let model = try TestModels.load(TestModels.tiny())
        return try PagedKVCache(configuration: model.configuration, blockSize: blockSize, blockCount: blocks)
    }

    static func request(_ id: Int, prompt: Int, priority: RequestPriority) -> Request {
        Request(id: id, promptTokens: (0..<prompt).map { Int32(3 + ($0 * 7 + id) % 250) },
                parameters: GenerationParameters(maxTokens: 8, priority: priority), vocabularySize: 300,
                text: TextStream(tokenizer: nil, stopSequences: []), emit: { _ in })
    }

    /// Marks a step's work as computed, as the engine does after its forward.
    static func compute(_ work: [ScheduledWork], _ kv: KVCacheManager) {
        for item in work { item.request.computedTokenCount += item.tokenCount }
        kv.markStepComputed()
    }

    @Test func interactiveWorkFillsTheBudgetFirst() throws {
        for priorities in [true, false] {
            let kv = KVCacheManager(cache: try Self.cache(blocks: 64))
            let scheduler = Scheduler(kv: kv, maxBatchTokens: 8, maxSequences: 8, usesPriorities: priorities)
            let batch = Self.request(1, prompt: 20, priority: .batch)
            let interactive = Self.request(2, prompt: 6, priority: .interactive)
            scheduler.add(batch)
            scheduler.add(interactive)
            let work = scheduler.schedule()
            let shares = work.map { ($0.request.id, $0.tokenCount) }
            if priorities {
                // Interactive first, batch takes what is left.
                #expect(shares.map(\.0) == [2, 1] && shares.map(\.1) == [6, 2], "\(shares)")
            } else {
                // First come, first served: the batch prompt takes the whole budget.
                #expect(shares.map(\.0) == [1] && shares.map(\.1) == [8], "\(shares)")
            }
            // Running requests too: next step the interactive one (now decoding) still goes first.
            Self.compute(work, kv)
            if priorities {
                interactive.tokens.append(5)
                let next = scheduler.schedule()
                #expect(next.first?.request.id == 2)
            }
        }
    }

    @Test func batchTokensAreCappedWhileInteractiveRequestsRun() throws {
        let kv = KVCacheManager(cache: try Self.cache(blocks: 64))
        let scheduler = Scheduler(kv: kv, maxBatchTokens: 32, maxSequences: 8, batchTokensBesideInteractive: 3)
        let batch = Self.request(1, prompt: 80, priority: .batch)
        scheduler.add(batch)
        let alone = scheduler.schedule()
        #expect(alone.map(\.tokenCount) == [32])  // no interactive request: the whole budget
        Self.compute(alone, kv)
        let interactive = Self.request(2, prompt: 5, priority: .interactive)
        scheduler.add(interactive)
        // Its prompt's step carries no batch token: its first token waits for nothing else.
        let prefill = scheduler.schedule()
        #expect(prefill.map(\.request.id) == [2] && prefill.map(\.tokenCount) == [5], "\(prefill.map(\.tokenCount))")
        Self.compute(prefill, kv)
        interactive.tokens.append(5)
        let beside = scheduler.schedule()
        #expect(beside.map(\.request.id) == [2, 1] && beside.map(\.tokenCount) == [1, 3], "\(beside.map(\.tokenCount))")
        Self.compute(beside, kv)
        scheduler.remove(interactive)
        #expect(scheduler.schedule().map(\.tokenCount) == [32])  // no window: uncapped at once
        for (setting, valid) in [(0, false), (1, true), (nil, true)] as [(Int?, Bool)] {
            var configuration = EngineConfiguration()
            configuration.batchTokensBesideInteractive = setting
            #expect(((try? configuration.validate()) != nil) == valid, "\(String(describing: setting))")
        }
    }

    /// A clock the tests move by hand.
    final class TestClock: @unchecked Sendable {
        var seconds = 0.0
    }

    @Test func batchStaysCappedForTheInteractiveWindow() throws {
        let clock = TestClock()
        for (priorities, cap) in [(true, 3), (false, 3), (true, nil)] as [(Bool, Int?)] {
            clock.seconds = 100
            let kv = KVCacheManager(cache: try Self.cache(blocks: 64))
            let scheduler = Scheduler(kv: kv, maxBatchTokens: 32, maxSequences: 8, usesPriorities: priorities,
                                      batchTokensBesideInteractive: cap, interactiveWindow: 1.0, now: { clock.seconds })
            let batch = Self.request(1, prompt: 200, priority: .batch)
            scheduler.add(batch)
            Self.compute(scheduler.schedule(), kv)
            let interactive = Self.request(2, prompt: 2, priority: .interactive)
            scheduler.add(interactive)
            Self.compute(scheduler.schedule(), kv)
            interactive.tokens.append(5)
            Self.compute(scheduler.schedule(), kv)
            scheduler.remove(interactive)
            // Gone for half the window: batch work stays capped; past the window it is not.
            clock.seconds += 0.5
            let withinWork = scheduler.schedule()
            let within = withinWork.map(\.tokenCount)
            Self.compute(withinWork, kv)
            clock.seconds += 0.6
            let after = scheduler.schedule().map(\.tokenCount)
            if priorities && cap != nil {
                #expect(within == [3] && after == [32], "\(within) \(after)")
                #expect(scheduler.lastInteractiveTime == 100)
            } else {
                // First come, first served, or no cap: the window changes nothing.
                #expect(within == [32] && after == [32], "\(priorities) \(String(describing: cap)): \(within) \(after)")
            }
        }
        for (window, valid) in [(-1, false), (0, true), (3_600_000, true), (3_600_001, false)] {
            var configuration = EngineConfiguration()
            configuration.interactiveWindowMilliseconds = window
            #expect(((try? configuration.validate()) != nil) == valid, "\(window)")
        }
    }

    @Test func kvPressurePreemptsBatchRequestsFirst() throws {
        // 6 blocks of 4 tokens, a batch request admitted first and an interactive one after,
        // both growing past the free blocks: first come, first served preempts the newest
        // (the interactive one), priorities the batch one.
        for priorities in [true, false] {
            let kv = KVCacheManager(cache: try Self.cache(blocks: 6))
            let scheduler = Scheduler(kv: kv, maxBatchTokens: 64, maxSequences: 8, usesPriorities: priorities)
            let batch = Self.request(1, prompt: 11, priority: .batch)  // 3 blocks
            scheduler.add(batch)
            Self.compute(scheduler.schedule(), kv)
            let interactive = Self.request(2, prompt: 11, priority: .interactive)  // 3 blocks: the pool is full
            scheduler.add(interactive)
            Self.compute(scheduler.schedule(), kv)
            #expect(scheduler.running.count == 2)
            // Both decode into their 12th slot (still their third block), then the 13th.
            for request in [batch, interactive] { request.tokens.append(5) }
            Self.compute(scheduler.schedule(), kv)
            for request in [batch, interactive] { request.tokens.append(5) }
            _ = scheduler.schedule()
            #expect(scheduler.preemptionCount == 1)
            let survivor = scheduler.running.map(\.id)
            // With priorities the batch request is preempted although it is the older one;
            // first come, first served preempts the newest (the interactive one).
            #expect(survivor == (priorities ? [2] : [1]), "\(survivor)")
            #expect(scheduler.waiting.map(\.id) == (priorities ? [1] : [2]))
        }
    }

    @Test func interactiveArrivalPreemptsBatchForBlocksAndSlots() throws {
        // Blocks: the batch request holds the whole pool.
        for priorities in [true, false] {
            let kv = KVCacheManager(cache: try Self.cache(blocks: 4))
            let scheduler = Scheduler(kv: kv, maxBatchTokens: 64, maxSequences: 8, usesPriorities: priorities)
            let batch = Self.request(1, prompt: 15, priority: .batch)
            scheduler.add(batch)
            Self.compute(scheduler.schedule(), kv)
            batch.tokens.append(5)  // decoding its 16th token, in its 4th block
            scheduler.add(Self.request(2, prompt: 5, priority: .interactive))
            let work = scheduler.schedule()
            if priorities {
                #expect(work.map(\.request.id) == [2])
                #expect(scheduler.waiting.map(\.id) == [1] && scheduler.preemptionCount == 1)
            } else {
                #expect(work.map(\.request.id) == [1])
                #expect(scheduler.waiting.map(\.id) == [2] && scheduler.preemptionCount == 0)
            }
        }
        // Sequence slots: one slot, taken by a batch request.
        let kv = KVCacheManager(cache: try Self.cache(blocks: 64))
        let scheduler = Scheduler(kv: kv, maxBatchTokens: 64, maxSequences: 1)
        scheduler.add(Self.request(1, prompt: 5, priority: .batch))
        Self.compute(scheduler.schedule(), kv)
        scheduler.add(Self.request(2, prompt: 5, priority: .interactive))
        #expect(scheduler.schedule().map(\.request.id) == [2])
        #expect(scheduler.running.map(\.id) == [2] && scheduler.waiting.map(\.id) == [1])
        // A second batch request never preempts the first.
        let other = KVCacheManager(cache: try Self.cache(blocks: 64))
        let fair = Scheduler(kv: other, maxBatchTokens: 64, maxSequences: 1)
        let first = Self.request(1, prompt: 5, priority: .batch)
        fair.add(first)
        Self.compute(fair.schedule(), other)
        first.tokens.append(5)
        fair.add(Self.request(2, prompt: 5, priority: .batch))
        #expect(fair.schedule().map(\.request.id) == [1] && fair.preemptionCount == 0)
    }

    @Test func kvCacheManagerAllocatesAllOrNothingTrimsAndFrees() throws {
        let cache = try Self.cache(blocks: 5)
        let kv = KVCacheManager(cache: cache)
        #expect(kv.allocateSlots(for: 1, tokens: 9)?.count == 3)
        #expect(kv.allocateSlots(for: 2, tokens: 13) == nil)  // 4 blocks, 2 free
        #expect(kv.blockTable(of: 2).isEmpty && cache.blocks.freeBlockCount == 2)
        #expect(kv.allocateSlots(for: 1, tokens: 12)?.count == 3)  // already room
        #expect(kv.allocateSlots(for: 2, tokens: 8)?.count == 2)
        kv.trim(1, toTokens: 4)
        #expect(kv.blockTable(of: 1).count == 1 && cache.blocks.freeBlockCount == 2)
        kv.free(1)
        kv.free(2)
        #expect(cache.blocks.freeBlockCount == 5 && kv.sequenceCount == 0)
    }

    @Test func kvCacheManagerSharesAComputedPrefix() throws {
        let cache = try Self.cache(blocks: 8)
        let kv = KVCacheManager(cache: cache)
        let tokens: [Int32] = Array(1...10)
        kv.allocateSlots(for: 1, tokens: tokens.count)
        kv.registerFullBlocks(for: 1, tokens: tokens, computed: 0, through: tokens.count)
        // Pending until the step ran: not shared yet.
        #expect(kv.takeComputedPrefix(for: 2, tokens: tokens) == nil)
        kv.markStepComputed()
        #expect(kv.takeComputedPrefix(for: 2, tokens: tokens) == 8)
        #expect(kv.blockTable(of: 2) == Array(kv.blockTable(of: 1).prefix(2)))
        #expect(cache.blocks.referenceCount(kv.blockTable(of: 1)[0]) == 2)
        kv.free(1)
        kv.free(2)
        #expect(cache.blocks.usedBlockCount == 0)
    }

    /// Greedy outputs do not depend on priorities or the preemptions they cause: a mixed
    /// workload in a small cache gives every request its solo output, both ways.
    @Test(.timeLimit(.minutes(2)))
    func mixedPrioritiesKeepOutputsExact() async throws {
        let model = try TestModels.load(TestModels.tiny())
        var rng = SeededGenerator(seed: 5)
        let count = 60
        let prompts: [[Int32]] = (0..<count).map { _ in (0..<(2 + Int(rng.next() % 20))).map { _ in Int32(3 + rng.next() % 290) } }
        let lengths = (0..<count).map { _ in 1 + Int(rng.next() % 16) }
        var outputs: [[[Int32]]] = []
        // Priorities, first come first served, and a cache large enough for no preemption.
        for (priorities, blocks) in [(true, 16), (false, 16), (true, 512)] {
            var configuration = EngineConfiguration(threadCount: 2, maxBatchTokens: 24, maxSequences: 8, kvCacheBlocks: blocks, blockSize: 4)
            configuration.priorityScheduling = priorities
            let engine = try Engine(model: model, configuration: configuration)
            defer { engine.shutdown() }
            let results = try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
                for i in 0..<count {
                    let parameters = GenerationParameters(maxTokens: lengths[i], sampling: SamplingParameters(temperature: 0), ignoreEOS: true,
                                                          priority: i % 3 == 0 ? .interactive : .batch)
                    group.addTask { (i, try await engine.complete(prompt: .tokens(prompts[i]), parameters: parameters).tokens) }
                }
                var all = [[Int32]](repeating: [], count: count)
                for try await (i, tokens) in group { all[i] = tokens }
                return all
            }
            outputs.append(results)
            let metrics = await engine.idleMetrics()
            #expect(metrics.kvBlocksUsed == 0)
            #expect((metrics.preemptions > 0) == (blocks == 16), "only the small cache is meant to preempt")
        }
        #expect(outputs[0] == outputs[2])
        #expect(outputs[1] == outputs[2])
        for i in 0..<count { #expect(outputs[0][i].count == lengths[i]) }
    }
}
