import Foundation
import Testing
@testable import Swiftlet

/// Runs requests one at a time through a fresh engine: the reference outputs.
func soloOutputs(_ model: LoadedModel, prompts: [[Int32]], maxTokens: [Int], kvCacheType: KVCacheType = .f32) async throws -> [[Int32]] {
    let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 64, maxSequences: 1, kvCacheBlocks: 64,
                                                                             kvCacheType: kvCacheType))
    defer { engine.shutdown() }
    var outputs: [[Int32]] = []
    for (prompt, count) in zip(prompts, maxTokens) {
        let result = try await engine.complete(prompt: .tokens(prompt), parameters: GenerationParameters(maxTokens: count, sampling: .greedy, ignoreEOS: true))
        outputs.append(result.tokens)
    }
    return outputs
}

/// Streams every request, dropping (cancelling) request `i` after `cancelAfter[i]` tokens;
/// returns each request's result, nil for the cancelled ones.
func runWithCancellations(_ engine: Engine, prompts: [[Int32]], lengths: [Int], cancelAfter: [Int?],
                          sampling: @escaping @Sendable (Int) -> SamplingParameters = { _ in .greedy }) async throws -> [GenerationResult?] {
    try await withThrowingTaskGroup(of: (Int, GenerationResult?).self) { group in
        for i in prompts.indices {
            group.addTask {
                var seen = 0
                let parameters = GenerationParameters(maxTokens: lengths[i], sampling: sampling(i), ignoreEOS: true)
                for try await event in engine.generate(prompt: .tokens(prompts[i]), parameters: parameters) {
                    switch event {
                    case .token:
                        seen += 1
                        if let limit = cancelAfter[i], seen > limit { return (i, nil) }  // drops the stream: cancels
                    case .text: break
                    case .finished(let result): return (i, result)
                    }
                }
                return (i, nil)
            }
        }
        var out = [GenerationResult?](repeating: nil, count: prompts.count)
        for try await (i, result) in group { out[i] = result }
        return out
    }
}

/// The engine's counters once it has gone idle (cancelled streams are freed at its next step).
func idleMetrics(_ engine: Engine) async throws -> EngineMetrics {
    await engine.idleMetrics()
}

@Suite("Engine")
struct EngineTests {
    @Test func engineReproducesReferenceGreedyIds() async throws {
        guard SharedFixtures.available else { return }
        let expected = try SharedFixtures.expected("tinygqa")
        let model = try ModelLoader.load(path: SharedFixtures.path("models/tinygqa.gguf"))
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, kvCacheMegabytes: 16))
        defer { engine.shutdown() }
        let result = try await engine.complete(prompt: .tokens(expected.prompt_ids), parameters: GenerationParameters(maxTokens: 32, sampling: .greedy, ignoreEOS: true))
        #expect(result.tokens == expected.greedy_ids)
        #expect(result.finishReason == .length)
        #expect(result.metrics.generatedTokenCount == 32)
        #expect(result.metrics.interTokenLatencies.count == 31)
        #expect(result.metrics.timeToFirstToken != nil)
    }

    /// 32 requests of mixed prompt lengths, arriving staggered, with chunked prefill (a
    /// 24-token budget): every one generates exactly the ids it generates alone.
    @Test func batchedOutputsEqualSoloOutputs() async throws {
        let model = try TestModels.load(TestModels.tiny())
        var rng = SeededGenerator(seed: 11)
        let prompts: [[Int32]] = (0..<32).map { _ in
            (0..<(1 + Int(rng.next() % 40))).map { _ in Int32(3 + rng.next() % 290) }
        }
        let lengths = (0..<32).map { _ in 5 + Int(rng.next() % 20) }
        let solo = try await soloOutputs(model, prompts: prompts, maxTokens: lengths)
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 24, maxSequences: 16, kvCacheBlocks: 256))
        defer { engine.shutdown() }
        let batched = try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
            for i in 0..<32 {
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(i % 8) * 2_000_000)
                    let r = try await engine.complete(prompt: .tokens(prompts[i]), parameters: GenerationParameters(maxTokens: lengths[i], sampling: .greedy, ignoreEOS: true))
                    return (i, r.tokens)
                }
            }
            var out = [[Int32]](repeating: [], count: 32)
            for try await (i, tokens) in group { out[i] = tokens }
            return out
        }
        for i in 0..<32 { #expect(batched[i] == solo[i], "request \(i)") }
        let metrics = engine.currentMetrics
        #expect(metrics.maxBatchSequences > 1)
        #expect(metrics.maxBatchTokens <= 24)
    }

    /// 300 requests, random lengths, random cancellations, a KV pool small enough to force
    /// preemption: all end, finished greedy outputs equal their solo outputs, no block leaks.
    @Test(.timeLimit(.minutes(2)))
    func stressWithPreemptionAndCancellation() async throws {
        let model = try TestModels.load(TestModels.tiny())
        var rng = SeededGenerator(seed: 99)
        let count = 300
        let prompts: [[Int32]] = (0..<count).map { _ in (0..<(1 + Int(rng.next() % 30))).map { _ in Int32(3 + rng.next() % 290) } }
        let lengths = (0..<count).map { _ in 1 + Int(rng.next() % 30) }
        let cancelAfter: [Int?] = (0..<count).map { _ in rng.next() % 4 == 0 ? Int(rng.next() % 5) : nil }
        let solo = try await soloOutputs(model, prompts: prompts, maxTokens: lengths)
        // 24 blocks of 4 tokens: at most ~96 cached tokens for up to 16 running requests.
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 32, maxSequences: 16, kvCacheBlocks: 24, blockSize: 4))
        defer { engine.shutdown() }
        let results = try await runWithCancellations(engine, prompts: prompts, lengths: lengths, cancelAfter: cancelAfter)
        var finished = 0
        for i in 0..<count {
            guard let result = results[i] else { continue }
            if result.finishReason == .length {
                finished += 1
                #expect(result.tokens == solo[i], "request \(i)")
            }
        }
        #expect(finished > count / 2)
        let metrics = try await idleMetrics(engine)
        #expect(metrics.kvBlocksUsed == 0)
        #expect(metrics.runningRequests == 0 && metrics.waitingRequests == 0)
        #expect(metrics.preemptions > 0)
    }

    /// A workload's report counts the step that finished its last request, even when the
    /// request's final event reaches the caller before the engine publishes its counters.
    @Test func workloadReportsCountTheLastStep() async throws {
        let model = try TestModels.load(TestModels.tiny())
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, kvCacheBlocks: 64))
        defer { engine.shutdown() }
        let workload = Workload(prompts: [[1, 5, 6, 7]], parameters: GenerationParameters(maxTokens: 1, sampling: .greedy, ignoreEOS: true))
        for round in 1...20 {
            let report = try await WorkloadRunner.run(workload, on: engine, concurrency: 1)
            #expect(report.engine.requestsFinished == round)
            #expect(report.engine.promptTokensComputed == 4 * round)
        }
    }

    /// An engine that has served requests and shut down is freed with its cache and scratch
    /// (a process that makes engine after engine, like `swiftlet bench`, must not grow).
    @Test func shutDownEnginesAreFreed() async throws {
        let model = try TestModels.load(TestModels.tiny())
        weak var weakEngine: Engine?
        weak var weakCache: PagedKVCache?
        do {
            let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, kvCacheBlocks: 64))
            weakEngine = engine
            weakCache = engine.cache
            _ = try await engine.complete(prompt: .tokens([1, 5, 6, 7]), parameters: GenerationParameters(maxTokens: 3, sampling: .greedy, ignoreEOS: true))
            for try await _ in engine.generate(prompt: .tokens([1, 8, 9]), parameters: GenerationParameters(maxTokens: 2, sampling: .greedy, ignoreEOS: true)) {}
            engine.shutdown()
            engine.waitUntilStopped()
        }
        for _ in 0..<100 where weakEngine != nil || weakCache != nil { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(weakEngine == nil)
        #expect(weakCache == nil)
    }

    /// `complete` streams nothing, but cancelling its task still cancels the request,
    /// whether the task was cancelled before the request was queued or while it runs.
    @Test func cancellingACompleteCallCancelsItsRequest() async throws {
        let model = try TestModels.load(TestModels.tiny(context: 256))
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, kvCacheBlocks: 64))
        defer { engine.shutdown() }
        let long = GenerationParameters(maxTokens: 200, sampling: .greedy, ignoreEOS: true)
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await engine.complete(prompt: .tokens([1, 5, 6]), parameters: long)
        }
        let before = try await early.value
        #expect(before.finishReason == .cancelled)
        #expect(before.tokens.count < 200)
        let generated = engine.currentMetrics.generatedTokens
        let running = Task { try await engine.complete(prompt: .tokens([1, 7, 8]), parameters: long) }
        while engine.currentMetrics.generatedTokens == generated { try await Task.sleep(nanoseconds: 100_000) }
        running.cancel()
        let during = try await running.value
        #expect(during.finishReason == .cancelled || during.tokens.count == 200)
        let whole = try await engine.complete(prompt: .tokens([1, 7, 8]), parameters: GenerationParameters(maxTokens: 5, sampling: .greedy, ignoreEOS: true))
        #expect(whole.finishReason == .length)
        #expect(whole.tokens.count == 5)
    }

    @Test func badRequestsAreRejectedWithMessages() async throws {
        let model = try TestModels.load(TestModels.tiny(context: 64))
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 1, kvCacheBlocks: 8, blockSize: 4))
        defer { engine.shutdown() }
        let greedy = GenerationParameters(maxTokens: 4, sampling: .greedy)
        await #expect(throws: GenerationError.self) { try await engine.complete(prompt: .tokens([]), parameters: greedy) }
        await #expect(throws: GenerationError.self) { try await engine.complete(prompt: .tokens([1, 300]), parameters: greedy) }
        await #expect(throws: GenerationError.self) { try await engine.complete(prompt: .tokens([1, -1]), parameters: greedy) }
        // Longer than the context, and longer than the whole KV cache (32 tokens).
        await #expect(throws: GenerationError.self) { try await engine.complete(prompt: .tokens(Array(repeating: 5, count: 64)), parameters: greedy) }
        await #expect(throws: GenerationError.self) { try await engine.complete(prompt: .tokens(Array(repeating: 5, count: 40)), parameters: greedy) }
        var bad = greedy
        bad.sampling.temperature = -1
        await #expect(throws: GenerationError.self) { try await engine.complete(prompt: .tokens([1]), parameters: bad) }
        bad = greedy
        bad.maxTokens = 0
        await #expect(throws: GenerationError.self) { try await engine.complete(prompt: .tokens([1]), parameters: bad) }
        // A request that fills the cache alone ends with .length instead of hanging.
        let result = try await engine.complete(prompt: .tokens([1, 5, 6]), parameters: GenerationParameters(maxTokens: 100, sampling: .greedy, ignoreEOS: true))
        #expect(result.finishReason == .length)
        #expect(result.tokens.count == 32 - 3 + 1)
    }

    @Test func stopSequencesEndTheTextBeforeThem() async throws {
        let model = try TestModels.load(TestModels.tiny())
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, kvCacheBlocks: 64))
        defer { engine.shutdown() }
        let plain = try await engine.complete(prompt: .text("the"), parameters: GenerationParameters(maxTokens: 40, sampling: .greedy, ignoreEOS: true))
        let text = try #require(plain.text)
        #expect(text.count > 6)
        let stop = String(text.dropFirst(3).prefix(2))
        var streamed = ""
        var result: GenerationResult?
        for try await event in engine.generate(prompt: .text("the"), parameters: GenerationParameters(maxTokens: 40, sampling: .greedy, stopSequences: [stop], ignoreEOS: true)) {
            switch event {
            case .token(_, let piece), .text(let piece): streamed += piece
            case .finished(let r): result = r
            }
        }
        let expected = String(text[..<text.range(of: stop)!.lowerBound])
        #expect(result?.finishReason == .stop)
        #expect(result?.text == expected)
        #expect(streamed == expected)
    }

    @Test func seededSamplingRepeats() async throws {
        let model = try TestModels.load(TestModels.tiny())
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, kvCacheBlocks: 64))
        defer { engine.shutdown() }
        let sampling = SamplingParameters(temperature: 1.0, topK: 50, seed: 42)
        let a = try await engine.complete(prompt: .tokens([1, 7]), parameters: GenerationParameters(maxTokens: 20, sampling: sampling, ignoreEOS: true))
        let b = try await engine.complete(prompt: .tokens([1, 7]), parameters: GenerationParameters(maxTokens: 20, sampling: sampling, ignoreEOS: true))
        #expect(a.tokens == b.tokens)
    }
}
