/// One request's share of a step: run `tokenCount` of its uncomputed tokens.
struct ScheduledWork {
    let request: Request
    let tokenCount: Int
}

/// vLLM v1-style scheduler in token counts, no phases: every step fills a token budget with
/// the running requests first (one decode token each, or the rest of a prompt chunk), then
/// with chunks of waiting prompts in arrival order. When the KV cache has no block left it
/// preempts the newest running request (frees its blocks; it is recomputed later).
///
/// With priorities on, that fill runs once per `RequestPriority`, highest first: interactive
/// running and waiting requests take the budget before any batch request gets a token. The
/// request preempted under KV pressure is the newest of the lowest priority, and an
/// interactive request that finds no block or no sequence slot preempts batch requests to
/// get in. While interactive requests are in the engine, and for `interactiveWindow` seconds
/// after the last step that saw one, batch requests get at most `batchTokensBesideInteractive`
/// tokens a step (so the next request of a steady interactive stream finds a short step in
/// its way, not a full batch step); a step that prefills an interactive prompt carries no
/// batch tokens. Off, every request counts as the same priority (first come, first served).
final class Scheduler {
    let kv: KVCacheManager
    let maxBatchTokens: Int
    let maxSequences: Int
    let usesPriorities: Bool
    /// Most tokens batch requests get in a step while interactive requests are in the
    /// engine: small steps keep the interactive ones' latency near an idle engine's.
    let batchTokensBesideInteractive: Int
    /// Whether batch work yields to interactive work at all (a cap was given).
    let capsBatchWork: Bool
    /// Seconds after the last step that saw an interactive request during which batch
    /// requests stay capped.
    let interactiveWindow: Double
    /// The clock the window is measured on, in seconds (injected by tests).
    private let now: () -> Double
    /// When a step last saw an interactive request, running or waiting.
    private(set) var lastInteractiveTime: Double?
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

    /// What one `schedule()` call has built so far.
    private struct Step {
        var work: [ScheduledWork] = []
        var budget: Int
        /// A running request was preempted for blocks: no more admissions this step.
        var preempted = false
    }

    init(kv: KVCacheManager, maxBatchTokens: Int, maxSequences: Int, usesPriorities: Bool = true,
         batchTokensBesideInteractive: Int? = nil, interactiveWindow: Double = 0,
         now: @escaping () -> Double = MonotonicClock.now) {
        self.kv = kv
        self.batchTokensBesideInteractive = batchTokensBesideInteractive ?? maxBatchTokens
        capsBatchWork = batchTokensBesideInteractive != nil
        self.interactiveWindow = interactiveWindow
        self.now = now
        self.maxBatchTokens = maxBatchTokens
        self.maxSequences = maxSequences
        self.usesPriorities = usesPriorities
    }

    var hasWork: Bool { !waiting.isEmpty || !running.isEmpty }

    func add(_ request: Request) {
        waiting.append(request)
    }

    /// The priority the scheduler sees (all the same without priorities).
    private func level(_ request: Request) -> RequestPriority {
        usesPriorities ? request.parameters.priority : .interactive
    }

    /// The work of the next step, in batch order.
    func schedule() -> [ScheduledWork] {
        exhausted.removeAll()
        var step = Step(budget: maxBatchTokens)
        let levels: [RequestPriority] = usesPriorities ? RequestPriority.allCases.sorted(by: >) : [.interactive]
        let capped = usesPriorities && capsBatchWork && interactiveWorkIsRecent()
        for priority in levels {
            if priority == .batch && capped {
                step.budget = min(step.budget, batchTokensBesideInteractive)
                // An interactive prompt in this step waits for the whole step's forward.
                if step.work.contains(where: { $0.request.computedTokenCount < $0.request.promptTokens.count }) {
                    step.budget = 0
                }
            }
            scheduleRunning(at: priority, &step)
            admitWaiting(at: priority, &step)
        }
        return step.work
    }

    /// Whether an interactive request is in the engine, or was within `interactiveWindow`
    /// seconds (notes the time when one is).
    private func interactiveWorkIsRecent() -> Bool {
        let time = now()
        if running.contains(where: { $0.parameters.priority == .interactive })
            || waiting.contains(where: { $0.parameters.priority == .interactive }) {
            lastInteractiveTime = time
            return true
        }
        guard let lastInteractiveTime else { return false }
        return time - lastInteractiveTime < interactiveWindow
    }

    /// Gives running requests of `priority` their tokens, in admission order.
    private func scheduleRunning(at priority: RequestPriority, _ step: inout Step) {
        for request in running where level(request) == priority {
            guard step.budget > 0 else { return }
            // Preempted by an earlier request of this loop.
            guard running.contains(where: { $0 === request }) else { continue }
            let count = min(request.uncomputedCount, step.budget)
            if count == 0 { continue }
            // Draft tokens that do not fit the budget are dropped.
            let draftFits = max(0, count - (request.tokens.count - request.computedTokenCount))
            if draftFits < request.draft.tokens.count {
                request.draft.truncate(to: draftFits)
            }
            var scheduled = true
            while kv.allocateSlots(for: request.id, tokens: request.computedTokenCount + count) == nil {
                // Victims are never scheduled yet this step: they have the lowest priority
                // and are the newest, and requests are visited highest priority, oldest first.
                let victim = self.victim()!
                if victim === request && running.count == 1 {
                    // Alone and still out of room: the cache is its limit.
                    running.removeLast()
                    exhausted.append(request)
                    scheduled = false
                    break
                }
                preempt(victim)
                step.preempted = true
                if victim === request { scheduled = false; break }
            }
            guard scheduled else { continue }
            accept(request, count: count, &step)
        }
    }

    /// Admits waiting requests of `priority` in arrival order while budget, sequence slots
    /// and blocks last. An interactive request preempts batch requests for its slot and blocks.
    private func admitWaiting(at priority: RequestPriority, _ step: inout Step) {
        var candidate = 0
        while !step.preempted && step.budget > 0 && candidate < waiting.count {
            let request = waiting[candidate]
            guard level(request) == priority else { candidate += 1; continue }
            if running.count >= maxSequences {
                guard let victim = lowerPriorityVictim(than: priority) else { return }
                preempt(victim)
                candidate += 1  // the victim went to the front
                continue
            }
            guard let cached = kv.takeComputedPrefix(for: request.id, tokens: request.tokens) else {
                candidate += 1  // its prefix is being computed this step: share it next step
                continue
            }
            if !request.prefixLookedUp {
                request.prefixLookedUp = true
                prefixQueryTokens += request.tokens.count
                prefixHitTokens += cached
                request.metrics.cachedPromptTokenCount = cached
            }
            request.computedTokenCount = cached
            let count = min(request.uncomputedCount, step.budget)
            var admitted = true
            while kv.allocateSlots(for: request.id, tokens: request.computedTokenCount + count) == nil {
                guard let victim = lowerPriorityVictim(than: priority) else { admitted = false; break }
                preempt(victim)
                candidate += 1
            }
            guard admitted else {
                // Waiting requests hold no blocks: give back what was reserved and wait.
                kv.free(request.id)
                request.computedTokenCount = 0
                return
            }
            waiting.remove(at: candidate)
            running.append(request)
            accept(request, count: count, &step)
        }
    }

    /// Adds the request's `count` tokens to the step.
    private func accept(_ request: Request, count: Int, _ step: inout Step) {
        step.work.append(ScheduledWork(request: request, tokenCount: count))
        kv.registerFullBlocks(for: request.id, tokens: request.tokens, computed: request.computedTokenCount,
                              through: request.computedTokenCount + count)
        step.budget -= count
    }

    /// The request to preempt when the cache is full: the newest of the lowest priority.
    private func victim() -> Request? {
        guard let lowest = running.map(level).min() else { return nil }
        return running.last { level($0) == lowest }
    }

    /// The newest running request below `priority`, if any.
    private func lowerPriorityVictim(than priority: RequestPriority) -> Request? {
        guard let victim = victim(), level(victim) < priority else { return nil }
        return victim
    }

    /// Removes a finished or cancelled request and frees its blocks.
    func remove(_ request: Request) {
        if let i = running.firstIndex(where: { $0 === request }) { running.remove(at: i) }
        if let i = waiting.firstIndex(where: { $0 === request }) { waiting.remove(at: i) }
        kv.free(request.id)
    }

    /// The request with `id`, waiting or running.
    func request(withID id: Int) -> Request? {
        running.first { $0.id == id } ?? waiting.first { $0.id == id }
    }

    /// Releases the request's blocks beyond those holding its first `tokens` positions
    /// (speculative rollback).
    func trimBlocks(_ request: Request, toTokens tokens: Int) {
        kv.trim(request.id, toTokens: tokens)
    }

    private func preempt(_ request: Request) {
        running.removeAll { $0 === request }
        request.draft = DraftProposal()
        kv.free(request.id)
        request.computedTokenCount = 0
        request.metrics.preemptionCount += 1
        preemptionCount += 1
        waiting.insert(request, at: 0)
    }
}
