/// One request's share of a step: run `tokenCount` of its uncomputed tokens.
struct ScheduledWork {
    let request: Request
    let tokenCount: Int
}

/// vLLM v1-style scheduler in token counts, no phases: every step fills a token budget with
/// the running requests first (one decode token each, or the rest of a prompt chunk), then
/// with chunks of waiting prompts in arrival order. When the KV cache has no block left it
/// preempts the newest running request (frees its blocks; it is recomputed later).
final class Scheduler {
    let cache: PagedKVCache
    let maxBatchTokens: Int
    let maxSequences: Int
    /// Arrival order; preempted requests go back to the front.
    private(set) var waiting: [Request] = []
    /// Admission order (the last is the newest, preempted first).
    private(set) var running: [Request] = []
    /// Preemptions since start.
    private(set) var preemptionCount = 0
    /// Prefix cache: prompt tokens looked up at admission, and found cached.
    private(set) var prefixQueryTokens = 0
    private(set) var prefixHitTokens = 0
    /// Requests that cannot grow in a cache they would fill alone; the engine finishes them.
    private(set) var exhausted: [Request] = []

    init(cache: PagedKVCache, maxBatchTokens: Int, maxSequences: Int) {
        self.cache = cache
        self.maxBatchTokens = maxBatchTokens
        self.maxSequences = maxSequences
    }

    var hasWork: Bool { !waiting.isEmpty || !running.isEmpty }

    func add(_ request: Request) {
        waiting.append(request)
    }

    /// The work of the next step, in batch order.
    func schedule() -> [ScheduledWork] {
        var work: [ScheduledWork] = []
        var budget = maxBatchTokens
        exhausted.removeAll()
        var preempted = false

        var index = 0
        while index < running.count && budget > 0 {
            let request = running[index]
            let count = min(request.uncomputedCount, budget)
            if count == 0 { index += 1; continue }
            // Draft tokens that do not fit the budget are dropped.
            let draftFits = max(0, count - (request.tokens.count - request.computedTokenCount))
            if draftFits < request.draft.tokens.count {
                request.draft.truncate(to: draftFits)
            }
            var scheduled = true
            while !reserveBlocks(request, tokens: request.computedTokenCount + count) {
                let victim = running.last!
                if victim === request && running.count == 1 {
                    // Alone and still out of room: the cache is its limit.
                    running.removeLast()
                    exhausted.append(request)
                    scheduled = false
                    break
                }
                preempt(victim)
                preempted = true
                if victim === request { scheduled = false; break }
            }
            guard scheduled else { continue }
            work.append(ScheduledWork(request: request, tokenCount: count))
            registerFullBlocks(request, through: request.computedTokenCount + count)
            budget -= count
            index += 1
        }

        var candidate = 0
        while !preempted && budget > 0 && running.count < maxSequences && candidate < waiting.count {
            let request = waiting[candidate]
            if !takeCachedPrefix(request) {
                candidate += 1  // its prefix is being computed this step: share it next step
                continue
            }
            let count = min(request.uncomputedCount, budget)
            guard reserveBlocks(request, tokens: request.computedTokenCount + count) else {
                // Waiting requests hold no blocks: give back what was reserved and wait.
                releaseBlocks(request)
                request.computedTokenCount = 0
                break
            }
            waiting.remove(at: candidate)
            running.append(request)
            work.append(ScheduledWork(request: request, tokenCount: count))
            registerFullBlocks(request, through: request.computedTokenCount + count)
            budget -= count
        }
        return work
    }

    /// Starts a waiting request on the cached blocks of its longest cached prefix (always
    /// leaving its last token to compute, for its logits). False when part of that prefix is
    /// being computed by another request in this step.
    private func takeCachedPrefix(_ request: Request) -> Bool {
        let blockSize = cache.blockSize
        let maxBlocks = (request.tokens.count - 1) / blockSize
        let (blocks, pending) = cache.blocks.lookup(request.tokens, blockSize: blockSize, maxBlocks: maxBlocks)
        if pending { return false }
        if !request.prefixLookedUp {
            request.prefixLookedUp = true
            prefixQueryTokens += request.tokens.count
            prefixHitTokens += blocks.count * blockSize
            request.metrics.cachedPromptTokenCount = blocks.count * blockSize
        }
        for block in blocks { cache.blocks.retain(block) }
        request.blockTable = blocks
        request.computedTokenCount = blocks.count * blockSize
        return true
    }

    /// Registers the request's blocks that are full once its tokens up to `end` are computed.
    private func registerFullBlocks(_ request: Request, through end: Int) {
        let blockSize = cache.blockSize
        let first = request.computedTokenCount / blockSize
        let last = min(end, request.tokens.count) / blockSize
        guard first < last else { return }
        for i in first..<last {
            cache.blocks.register(request.blockTable[i], parent: i > 0 ? request.blockTable[i - 1] : -1,
                                  tokens: request.tokens[(i * blockSize)..<((i + 1) * blockSize)], computed: false)
        }
    }

    /// Removes a finished or cancelled request and frees its blocks.
    func remove(_ request: Request) {
        if let i = running.firstIndex(where: { $0 === request }) { running.remove(at: i) }
        if let i = waiting.firstIndex(where: { $0 === request }) { waiting.remove(at: i) }
        releaseBlocks(request)
    }

    /// The request with `id`, waiting or running.
    func request(withID id: Int) -> Request? {
        running.first { $0.id == id } ?? waiting.first { $0.id == id }
    }

    /// Grows the request's block table to hold `tokens` tokens; false when the pool is out.
    private func reserveBlocks(_ request: Request, tokens: Int) -> Bool {
        let needed = cache.blocksNeeded(forTokens: tokens)
        while request.blockTable.count < needed {
            guard let block = cache.blocks.allocate() else { return false }
            request.blockTable.append(block)
        }
        return true
    }

    /// Releases the request's blocks beyond those holding its first `tokens` positions
    /// (speculative rollback).
    func trimBlocks(_ request: Request, toTokens tokens: Int) {
        let keep = cache.blocksNeeded(forTokens: tokens)
        guard request.blockTable.count > keep else { return }
        cache.blocks.release(request.blockTable[keep...])
        request.blockTable.removeLast(request.blockTable.count - keep)
    }

    private func releaseBlocks(_ request: Request) {
        cache.blocks.release(request.blockTable)
        request.blockTable.removeAll()
    }

    private func preempt(_ request: Request) {
        running.removeAll { $0 === request }
        request.draft = DraftProposal()
        releaseBlocks(request)
        request.computedTokenCount = 0
        request.metrics.preemptionCount += 1
        preemptionCount += 1
        waiting.insert(request, at: 0)
    }
}
