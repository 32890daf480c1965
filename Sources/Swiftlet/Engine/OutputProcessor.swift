/// Turns a step's logits into each request's progress, as vLLM's `update_from_output` does
/// after its scheduler and model runner: samples the next token (or verifies the draft
/// tokens and rolls both KV caches back past the first rejection), appends and streams the
/// tokens, stops at end-of-generation, stop sequences, `maxTokens` or the context, finishes
/// requests and counts it all in the engine's metrics. Engine thread only.
final class OutputProcessor {
    private let tokenizer: (any Tokenizer)?
    private let vocabularySize: Int
    private let maxContext: Int
    private let scheduler: Scheduler
    private let drafter: (any Drafter)?
    /// `(vocabularySize)` target distribution scratch for verification.
    private var verifyScratch: [Float] = []

    init(tokenizer: (any Tokenizer)?, vocabularySize: Int, maxContext: Int, scheduler: Scheduler, drafter: (any Drafter)?) {
        self.tokenizer = tokenizer
        self.vocabularySize = vocabularySize
        self.maxContext = maxContext
        self.scheduler = scheduler
        self.drafter = drafter
    }

    /// Applies the step that ran `work` (in batch order) and produced `logits` at `time`:
    /// one row per request that wanted logits, plus one per draft token it verifies.
    func process(_ work: [ScheduledWork], logits: Logits, at time: Double, metrics: inout EngineMetrics) {
        var row = 0
        for item in work {
            let request = item.request
            let known = request.tokens.count
            request.computedTokenCount += item.tokenCount
            guard request.computedTokenCount >= known else { continue }  // mid-prompt chunk
            let rows = request.computedTokenCount - known + 1
            let output: [Int32]
            if request.draft.tokens.isEmpty {
                let token = request.tokens.withUnsafeBufferPointer { history in
                    request.sampler.sample(logits: UnsafeBufferPointer(logits.row(row)), history: history)
                }
                output = [token]
            } else {
                output = verifyDraft(request, logits: logits, firstRow: row)
            }
            row += rows
            request.metrics.targetSteps += 1
            emit(output, for: request, at: time, metrics: &metrics)
        }
    }

    /// Accepts or rejects the request's draft tokens against the target logits rows
    /// `firstRow...firstRow + k`, rolls both KV caches back past the first rejection, and
    /// returns the tokens to append.
    private func verifyDraft(_ request: Request, logits: Logits, firstRow: Int) -> [Int32] {
        let vocabulary = vocabularySize
        if verifyScratch.count != vocabulary { verifyScratch = [Float](repeating: 0, count: vocabulary) }
        let draft = request.draft
        let known = request.tokens.count
        var history = request.tokens
        // The generator advances in `sampler`; `scorer` (a copy sharing its scratch) computes p.
        var sampler = request.sampler
        let scorer = request.sampler
        let (output, accepted) = verifyScratch.withUnsafeMutableBufferPointer { scratch in
            SpeculativeVerifier.verify(proposal: draft, vocabularySize: vocabulary, sampler: &sampler, scratch: scratch) { i, into in
                history.removeLast(history.count - known)
                history.append(contentsOf: draft.tokens[0..<i])
                history.withUnsafeBufferPointer { h in
                    scorer.distribution(logits: UnsafeBufferPointer(logits.row(firstRow + i)), history: h, into: into)
                }
            }
        }
        request.sampler = sampler
        request.metrics.draftTokensProposed += draft.tokens.count
        request.metrics.draftTokensAccepted += accepted
        request.acceptance.record(accepted: accepted, proposed: draft.tokens.count)
        request.draft = DraftProposal()
        // Keys and values of rejected positions stay in the blocks but are overwritten later.
        request.computedTokenCount = known + accepted
        scheduler.trimBlocks(request, toTokens: known + accepted + 1)
        drafter?.rollback(id: request.id, to: known + accepted)
        return output
    }

    /// Appends sampled tokens one by one, streams them and finishes the request when it
    /// should stop (tokens after a stop are dropped).
    private func emit(_ output: [Int32], for request: Request, at time: Double, metrics: inout EngineMetrics) {
        for token in output {
            request.tokens.append(token)
            metrics.generatedTokens += 1
            request.metrics.generatedTokenCount += 1
            if request.metrics.firstTokenTime == nil {
                request.metrics.firstTokenTime = time
            } else {
                request.metrics.interTokenLatencies.append(time - request.lastTokenTime)
            }
            request.lastTokenTime = time
            let endOfGeneration = !request.parameters.ignoreEOS && (tokenizer?.isEndOfGeneration(token) ?? false)
            let piece = endOfGeneration ? (text: "", stopped: false) : request.text.append(token)
            request.emit(.token(id: token, text: piece.text))
            if endOfGeneration || piece.stopped {
                finish(request, reason: .stop, metrics: &metrics)
                return
            }
            if request.generatedCount >= request.parameters.maxTokens || request.tokens.count >= maxContext {
                finish(request, reason: .length, metrics: &metrics)
                return
            }
        }
    }

    /// Ends a request: frees its blocks in both caches, releases held-back text and sends
    /// its result.
    func finish(_ request: Request, reason: FinishReason, metrics: inout EngineMetrics) {
        scheduler.remove(request)
        drafter?.finish(id: request.id)
        request.finishReason = reason
        request.metrics.finishTime = MonotonicClock.now()
        let tail = request.text.finish(stopped: reason == .stop)
        if !tail.isEmpty { request.emit(.text(tail)) }
        if reason == .cancelled { metrics.requestsCancelled += 1 } else { metrics.requestsFinished += 1 }
        request.emit(.finished(request.result()))
    }
}
