import Foundation
import Synchronization

/// How an engine drafts tokens for speculative decoding.
public enum Drafting {
    /// A small model with the target's vocabulary.
    case model(LoadedModel)
    /// Prompt lookup: n-gram matches in the request's own text, no model.
    case promptLookup
}

/// The inference engine: owns the model, the KV cache and the scheduling loop, which runs on
/// its own thread (compute stays off Swift's cooperative pool). Many callers may submit
/// concurrently; every step runs one batched forward over all scheduled requests: the
/// `Scheduler` chooses the work, `forward` runs it, the `OutputProcessor` samples, streams
/// and finishes.
///
/// ```swift
/// let engine = try Engine(model: ModelLoader.load(path: "Models/shakespeare-target.gguf"))
/// for try await event in engine.generate(prompt: .text("ROMEO:"), parameters: .init(maxTokens: 64)) {
///     if case .token(_, let text) = event { print(text, terminator: "") }
/// }
/// ```
public final class Engine: @unchecked Sendable {
    public let configuration: EngineConfiguration
    public let modelConfiguration: ModelConfiguration
    /// nil for checkpoints without a vocabulary (llama2.c without `tokenizer.bin`).
    public let tokenizer: (any Tokenizer)?
    /// Longest sequence, prompt plus generated.
    public let maxContext: Int
    /// The memory the engine planned for (checked against the limit before allocating).
    public let memoryPlan: MemoryPlan

    private let transformer: Transformer
    let cache: PagedKVCache
    private let kv: KVCacheManager
    private let scheduler: Scheduler
    private let output: OutputProcessor

    // Shared with callers; guarded by `condition`.
    private let condition = NSCondition()
    private var inbox: [Request] = []
    private var cancellations: Set<Int> = []
    private var stopping = false
    private var nextID = 0
    private var metricsSnapshot = EngineMetrics()
    /// Whether `metricsSnapshot` was taken with nothing left to do since the last submit.
    private var snapshotIsIdle = true
    private var loopFinished = false

    // Engine thread only.
    private let drafter: (any Drafter)?
    private var policy: SpeculationPolicy
    private var metrics = EngineMetrics()
    private var batch = TokenBatch()

    /// Starts an engine for `model`.
    /// - Parameter tokenizer: defaults to the one in the model's GGUF metadata (a
    ///   `DeferredTokenizer`: its encoder is built for the first text prompt).
    /// - Parameter drafting: speculative decoding with a draft model or prompt lookup.
    public init(model: LoadedModel, tokenizer: (any Tokenizer)? = nil, configuration: EngineConfiguration = EngineConfiguration(),
                drafting: Drafting? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        modelConfiguration = model.configuration
        if let tokenizer {
            self.tokenizer = tokenizer
        } else if let metadata = model.metadata, metadata["tokenizer.ggml.model"] != nil {
            // The vocabulary now, the encoder at the first text prompt: a run given token ids
            // never needs one (nor a pre-tokenizer Swiftlet knows).
            self.tokenizer = try TokenizerLoader.loadDeferred(from: metadata)
        } else {
            self.tokenizer = nil
        }
        if let vocabulary = self.tokenizer?.vocabulary.count, vocabulary > model.configuration.vocabularySize {
            throw GenerationError.invalidRequest("tokenizer has \(vocabulary) tokens, the model only \(model.configuration.vocabularySize)")
        }
        maxContext = min(configuration.maxContext ?? model.configuration.contextLength, model.configuration.contextLength,
                         Transformer.positionLimit)
        var draftModel: LoadedModel?
        if case .model(let draft) = drafting { draftModel = draft }
        memoryPlan = MemoryPlan(model: model, configuration: configuration, draftModel: draftModel)
        try memoryPlan.check(limitBytes: configuration.maxMemoryBytes)
        transformer = try Transformer(weights: model.weights, maxBatchTokens: configuration.maxBatchTokens,
                                  maxContext: maxContext, threadCount: configuration.threadCount,
                                  kernels: configuration.kernelPath.map(Kernels.init(path:)) ?? .default)
        if let blocks = configuration.kvCacheBlocks {
            cache = try PagedKVCache(configuration: model.configuration, blockSize: configuration.blockSize, blockCount: blocks,
                                 type: configuration.kvCacheType)
        } else {
            cache = try PagedKVCache(configuration: model.configuration, blockSize: configuration.blockSize,
                                 megabytes: configuration.kvCacheMegabytes, type: configuration.kvCacheType)
        }
        kv = KVCacheManager(cache: cache)
        switch drafting {
        case .model(let draftModel):
            drafter = try DraftModelDrafter(
                model: draftModel, targetVocabularySize: model.configuration.vocabularySize, targetTokenizer: self.tokenizer,
                maxBatchTokens: configuration.maxBatchTokens, maxContext: maxContext,
                kvTokens: cache.tokenCapacity, pool: transformer.pool, kernels: transformer.kernels,
                // A target that streams its weights from memory evicts the draft's every cycle.
                weightsFromMemory: transformer.weightsFromMemory ? true : nil)
        case .promptLookup:
            drafter = PromptLookupDrafter()
        case nil:
            drafter = nil
        }
        policy = SpeculationPolicy(maxDraftTokens: configuration.maxDraftTokens, adaptive: configuration.adaptiveDraftLength)
        if let drafter, configuration.adaptiveDraftLength {
            // Measure both step costs now, not inside the first requests' timings.
            policy.targetCosts = CostTable.measure(transformer, kv: kv, sizes: [1, 2, 4, 8, 16, 32, 64, 128, 256])
            _ = drafter.stepSeconds(batchSize: 1)
        } else {
            // Warm up, as llama.cpp does before serving: a step of one token and one of 32
            // bring the weights into cache, run the decode and tile kernels once and wake the
            // threads outside the first request's time.
            _ = CostTable.measure(transformer, kv: kv, sizes: [1, 32])
        }
        cache.blocks.cachingEnabled = configuration.prefixCaching
        scheduler = Scheduler(kv: kv, maxBatchTokens: configuration.maxBatchTokens,
                              maxSequences: configuration.maxSequences, usesPriorities: configuration.priorityScheduling,
                              batchTokensBesideInteractive: configuration.batchTokensBesideInteractive,
                              interactiveWindow: Double(configuration.interactiveWindowMilliseconds) / 1000)
        output = OutputProcessor(tokenizer: self.tokenizer, vocabularySize: model.configuration.vocabularySize,
                                 maxContext: maxContext, scheduler: scheduler, drafter: drafter)
        metrics.startTime = MonotonicClock.now()
        metrics.kvBlocksTotal = cache.blockCount
        metricsSnapshot = metrics
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "swiftlet-engine"
        thread.stackSize = 4 << 20
        thread.start()
    }

    deinit {
        shutdown()
    }

    /// Stops the loop: running and waiting requests finish as cancelled. Idempotent.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the loop thread has exited after `shutdown()`.
    public func waitUntilStopped() {
        condition.lock()
        while !loopFinished { condition.wait() }
        condition.unlock()
    }

    /// A snapshot of the engine-wide counters (updated after every step).
    public var currentMetrics: EngineMetrics {
        condition.lock()
        defer { condition.unlock() }
        return metricsSnapshot
    }

    /// The engine-wide counters once every submitted request has been handled: waits until
    /// the engine has published a snapshot with no work left (a request's final event can
    /// reach its caller just before the step that finished it is counted).
    public func idleMetrics() async -> EngineMetrics {
        while true {
            if let snapshot = idleSnapshot() { return snapshot }
            try? await Task.sleep(nanoseconds: 500_000)
        }
    }

    private func idleSnapshot() -> EngineMetrics? {
        condition.lock()
        defer { condition.unlock() }
        return snapshotIsIdle ? metricsSnapshot : nil
    }

    /// Draft-model KV blocks in use (0 without a draft model). Read when the engine is idle.
    public var draftBlocksInUse: Int { (drafter as? DraftModelDrafter)?.cache.blocks.usedBlockCount ?? 0 }

    /// Blocks in the KV cache, and blocks free now (engine idle: all of them).
    public var kvBlockCount: Int { cache.blockCount }

    /// Tokens of `prompt` as the engine will run them.
    public func tokens(for prompt: Prompt) throws -> [Int32] {
        switch prompt {
        case .tokens(let ids): return ids
        case .text(let text):
            guard let tokenizer else {
                throw GenerationError.invalidRequest("this model has no tokenizer: give prompt token ids")
            }
            if let deferred = tokenizer as? DeferredTokenizer { return try deferred.encoder().encode(text) }
            return tokenizer.encode(text)
        }
    }

    /// Streams a request's tokens, then `.finished`. Cancelling the consuming task (or
    /// dropping the stream) cancels the request; its blocks are freed at the next step.
    public func generate(prompt: Prompt, parameters: GenerationParameters = GenerationParameters()) -> AsyncThrowingStream<GenerationEvent, Error> {
        AsyncThrowingStream { continuation in
            do {
                let id = try submit(prompt: prompt, parameters: parameters) { event in
                    continuation.yield(event)
                    if case .finished = event { continuation.finish() }
                }
                continuation.onTermination = { [weak self] termination in
                    if case .cancelled = termination { self?.cancel(id) }
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    /// Runs a request to the end and returns its result. Cancelling the calling task cancels
    /// the request, which then returns its tokens so far with `.cancelled` (read from a
    /// token stream, a cancelled task saw the stream end and had no result to return).
    /// Only the result crosses threads; no per-token events are sent.
    public func complete(prompt: Prompt, parameters: GenerationParameters = GenerationParameters()) async throws -> GenerationResult {
        let pending = PendingRequest()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                do {
                    // A task cancelled before the request exists queues it already cancelled, so
                    // it finishes before its first step however late this thread runs again.
                    let id = try submit(prompt: prompt, parameters: parameters, cancelled: pending.isCancelled) { event in
                        if case .finished(let result) = event { continuation.resume(returning: result) }
                    }
                    if pending.started(id) { cancel(id) }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if let id = pending.cancelled() { cancel(id) }
        }
    }

    /// Queues a request; `onEvent` is called on the engine thread for each event, the last
    /// being `.finished`. Returns the request id for `cancel(_:)`.
    /// - Throws: `GenerationError.invalidRequest` for an empty or over-long prompt, token ids
    ///   outside the vocabulary, or bad parameters.
    @discardableResult
    public func submit(prompt: Prompt, parameters: GenerationParameters = GenerationParameters(),
                       onEvent: @escaping @Sendable (GenerationEvent) -> Void) throws -> Int {
        try submit(prompt: prompt, parameters: parameters, cancelled: false, onEvent: onEvent)
    }

    /// `submit(prompt:parameters:onEvent:)`; with `cancelled`, the request is queued together
    /// with its cancellation (the engine finishes it as `.cancelled` before any step).
    private func submit(prompt: Prompt, parameters: GenerationParameters, cancelled: Bool,
                        onEvent: @escaping @Sendable (GenerationEvent) -> Void) throws -> Int {
        let ids = try tokens(for: prompt)
        try validate(promptTokens: ids, parameters: parameters)
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { throw GenerationError.engineStopped }
        nextID += 1
        let request = Request(id: nextID, promptTokens: ids, parameters: parameters,
                              vocabularySize: modelConfiguration.vocabularySize,
                              text: TextStream(tokenizer: tokenizer, stopSequences: parameters.stopSequences), emit: onEvent)
        inbox.append(request)
        if cancelled { cancellations.insert(request.id) }
        snapshotIsIdle = false
        condition.broadcast()
        return request.id
    }

    /// Cancels a request; it finishes with `.cancelled` at the next step. Unknown or
    /// finished ids are ignored.
    public func cancel(_ id: Int) {
        condition.lock()
        cancellations.insert(id)
        condition.broadcast()
        condition.unlock()
    }

    private func validate(promptTokens ids: [Int32], parameters: GenerationParameters) throws {
        guard !ids.isEmpty else { throw GenerationError.invalidRequest("the prompt is empty") }
        guard parameters.maxTokens >= 1 else { throw GenerationError.invalidRequest("max tokens must be at least 1") }
        do { try parameters.sampling.validate() } catch { throw GenerationError.invalidRequest("\(error)") }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= modelConfiguration.vocabularySize }) {
            throw GenerationError.invalidRequest("token id \(bad) is outside the vocabulary (0..<\(modelConfiguration.vocabularySize))")
        }
        guard ids.count < maxContext else {
            throw GenerationError.invalidRequest("the prompt has \(ids.count) tokens; the context holds \(maxContext) (prompt plus at least one generated token)")
        }
        guard cache.blocksNeeded(forTokens: ids.count + 1) <= cache.blockCount else {
            throw GenerationError.invalidRequest("the prompt has \(ids.count) tokens; the KV cache holds \(cache.tokenCapacity)")
        }
    }

    // MARK: - The loop (engine thread)

    private func runLoop() {
        while true {
            condition.lock()
            while inbox.isEmpty && cancellations.isEmpty && !scheduler.hasWork && !stopping {
                condition.wait()
            }
            let arrivals = inbox
            inbox.removeAll()
            var cancelled = cancellations
            cancellations.removeAll()
            let stop = stopping
            condition.unlock()

            for request in arrivals { scheduler.add(request) }
            if stop {
                cancelled.formUnion((scheduler.running + scheduler.waiting).map(\.id))
            }
            for id in cancelled {
                if let request = scheduler.request(withID: id) { output.finish(request, reason: .cancelled, metrics: &metrics) }
            }
            if stop { break }
            if scheduler.hasWork { step() }
            publishMetrics()
        }
        publishMetrics()
        condition.lock()
        loopFinished = true
        condition.broadcast()
        condition.unlock()
    }

    /// One step: schedule, run the forward, process its output.
    private func step() {
        if drafter != nil { prepareDrafts() }
        let work = scheduler.schedule()
        for request in scheduler.exhausted { output.finish(request, reason: .length, metrics: &metrics) }
        guard !work.isEmpty else { return }
        let logits = forward(work)
        output.process(work, logits: logits, at: MonotonicClock.now(), metrics: &metrics)
    }

    /// Runs the scheduled tokens of every request as one batch; returns their logits rows.
    private func forward(_ work: [ScheduledWork]) -> Logits {
        let now = MonotonicClock.now()
        batch.removeAll()
        for item in work {
            let request = item.request
            if request.metrics.firstScheduledTime == nil { request.metrics.firstScheduledTime = now }
            let sequence = batch.addSequence(blockTable: kv.blockTable(of: request.id))
            let start = request.computedTokenCount
            for position in start..<(start + item.tokenCount) {
                batch.append(token: request.token(at: position), position: position, sequence: sequence,
                             wantsLogits: position >= request.tokens.count - 1)
                if position < request.promptTokens.count { metrics.promptTokensComputed += 1 }
            }
        }
        let logits = transformer.forward(batch, cache: cache)
        kv.markStepComputed()
        let seconds = MonotonicClock.now() - now
        if !policy.targetCosts.isEmpty { policy.targetCosts.observe(tokens: batch.tokenCount, seconds: seconds) }
        metrics.forwardSeconds += seconds
        metrics.steps += 1
        if batch.tokenCount <= EngineMetrics.decodeStepTokens {
            metrics.decodeSteps += 1
            metrics.decodeStepSeconds += seconds
        }
        metrics.batchedTokens += batch.tokenCount
        metrics.maxBatchTokens = max(metrics.maxBatchTokens, batch.tokenCount)
        metrics.batchedSequences += work.count
        metrics.maxBatchSequences = max(metrics.maxBatchSequences, work.count)
        return logits
    }

    /// Chooses this step's draft length and asks the drafter for tokens for every request
    /// that is decoding.
    private func prepareDrafts() {
        guard let drafter else { return }
        let decoding = scheduler.running.filter { $0.tokens.count - $0.computedTokenCount == 1 }
        guard !decoding.isEmpty else { return }
        let otherTokens = scheduler.running.reduce(0) { $0 + ($1.tokens.count - $1.computedTokenCount == 1 ? 0 : $1.uncomputedCount) }
        var k = policy.draftLength(acceptanceRates: decoding.map(\.acceptance.estimate), otherTokens: otherTokens,
                                   draftSeconds: { drafter.stepSeconds(batchSize: $0) })
        k = min(k, max(0, (configuration.maxBatchTokens - otherTokens) / decoding.count - 1))
        guard k > 0 else {
            for request in decoding { request.acceptance.recordUndraftedStep() }
            return
        }
        var asks: [DraftRequest] = []
        for request in decoding {
            let room = min(request.parameters.maxTokens - request.generatedCount - 1, maxContext - request.tokens.count - 1)
            asks.append(DraftRequest(id: request.id, tokens: request.tokens, count: max(0, min(k, room)), sampling: request.parameters.sampling))
        }
        let start = MonotonicClock.now()
        let proposals = drafter.propose(asks)
        metrics.draftSeconds += MonotonicClock.now() - start
        metrics.draftedSteps += 1
        for (request, proposal) in zip(decoding, proposals) { request.draft = proposal }
    }

    private func publishMetrics() {
        metrics.runningRequests = scheduler.running.count
        metrics.waitingRequests = scheduler.waiting.count
        metrics.kvBlocksUsed = cache.blocks.usedBlockCount
        metrics.peakKVBlocksUsed = max(metrics.peakKVBlocksUsed, metrics.kvBlocksUsed)
        metrics.preemptions = scheduler.preemptionCount
        metrics.prefixQueryTokens = scheduler.prefixQueryTokens
        metrics.prefixHitTokens = scheduler.prefixHitTokens
        metrics.prefixEvictions = cache.blocks.evictions
        metrics.kvBlocksShared = cache.blocks.sharedBlockCount
        metrics.kvBlocksCached = cache.blocks.cachedBlockCount
        condition.lock()
        metricsSnapshot = metrics
        snapshotIsIdle = inbox.isEmpty && !scheduler.hasWork
        condition.unlock()
    }
}

/// A `complete` call's request id and whether its task was cancelled, whichever comes first.
private final class PendingRequest: Sendable {
    private let state = Mutex<(id: Int?, cancelled: Bool)>((nil, false))

    /// Records the id; true when the task was already cancelled (the caller cancels it).
    func started(_ id: Int) -> Bool { state.withLock { $0.id = id; return $0.cancelled } }

    /// Records the cancellation; returns the id when the request has one already.
    func cancelled() -> Int? { state.withLock { $0.cancelled = true; return $0.id } }

    /// Whether the task has been cancelled so far.
    var isCancelled: Bool { state.withLock { $0.cancelled } }
}
