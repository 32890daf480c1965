import CoreMetrics
import Metrics
import Prometheus
import Swiftlet
import Synchronization

/// The server's Prometheus metrics, made through swift-metrics with a factory of this
/// server's own registry (no process-wide bootstrap, so several servers can share a process).
///
/// Names follow vLLM's (`vllm:time_to_first_token_seconds` and so on) with the prefix
/// `swiftlet:` instead of `vllm:`, so vLLM dashboards work after renaming the prefix. Every
/// series has the label `model_name`. Latencies come from the engine's per-request timings
/// (arrival at the engine to first token, between tokens, to finish, waiting before the first
/// step); engine gauges and cache counters are read from `Engine.currentMetrics` at scrape.
final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let timeToFirstToken: CoreMetrics.Timer
    private let interTokenLatency: CoreMetrics.Timer
    private let endToEndLatency: CoreMetrics.Timer
    private let queueTime: CoreMetrics.Timer
    private let promptTokens: CoreMetrics.Counter
    private let generationTokens: CoreMetrics.Counter
    private let success: [FinishReason: CoreMetrics.Counter]
    private let rejected: CoreMetrics.Counter
    private let draftTokens: CoreMetrics.Counter
    private let acceptedTokens: CoreMetrics.Counter
    private let running: CoreMetrics.Gauge
    private let waiting: CoreMetrics.Gauge
    private let kvUsage: CoreMetrics.Gauge
    private let kvBlocksUsed: CoreMetrics.Gauge
    private let kvBlocksTotal: CoreMetrics.Gauge
    private let prefixQueries: CoreMetrics.Counter
    private let prefixHits: CoreMetrics.Counter
    private let preemptions: CoreMetrics.Counter
    /// Engine counters already added to the Prometheus counters.
    private let published = Mutex(EngineMetrics())

    /// Metric names, for tests and documentation.
    enum Name {
        static let timeToFirstToken = "swiftlet:time_to_first_token_seconds"
        static let interTokenLatency = "swiftlet:inter_token_latency_seconds"
        static let endToEndLatency = "swiftlet:e2e_request_latency_seconds"
        static let queueTime = "swiftlet:request_queue_time_seconds"
        static let promptTokens = "swiftlet:prompt_tokens_total"
        static let generationTokens = "swiftlet:generation_tokens_total"
        static let success = "swiftlet:request_success_total"
        static let rejected = "swiftlet:request_rejected_total"
        static let draftTokens = "swiftlet:spec_decode_num_draft_tokens_total"
        static let acceptedTokens = "swiftlet:spec_decode_num_accepted_tokens_total"
        static let running = "swiftlet:num_requests_running"
        static let waiting = "swiftlet:num_requests_waiting"
        static let kvUsage = "swiftlet:kv_cache_usage_perc"
        static let kvBlocksUsed = "swiftlet:kv_cache_blocks_used"
        static let kvBlocksTotal = "swiftlet:kv_cache_blocks_total"
        static let prefixQueries = "swiftlet:prefix_cache_queries_total"
        static let prefixHits = "swiftlet:prefix_cache_hits_total"
        static let preemptions = "swiftlet:num_preemptions_total"
    }

    init(modelName: String) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80]
            .map { .nanoseconds(Int64($0 * 1e9)) }
        let steps: [Duration] = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.2, 0.3, 0.5, 1, 2.5]
            .map { .nanoseconds(Int64($0 * 1e9)) }
        factory.defaultDurationHistogramBuckets = latency
        factory.durationHistogramBuckets[Name.interTokenLatency] = steps
        let labels = [("model_name", modelName)]
        timeToFirstToken = CoreMetrics.Timer(label: Name.timeToFirstToken, dimensions: labels, factory: factory)
        interTokenLatency = CoreMetrics.Timer(label: Name.interTokenLatency, dimensions: labels, factory: factory)
        endToEndLatency = CoreMetrics.Timer(label: Name.endToEndLatency, dimensions: labels, factory: factory)
        queueTime = CoreMetrics.Timer(label: Name.queueTime, dimensions: labels, factory: factory)
        promptTokens = CoreMetrics.Counter(label: Name.promptTokens, dimensions: labels, factory: factory)
        generationTokens = CoreMetrics.Counter(label: Name.generationTokens, dimensions: labels, factory: factory)
        var success: [FinishReason: CoreMetrics.Counter] = [:]
        for reason in [FinishReason.stop, .length, .cancelled] {
            success[reason] = CoreMetrics.Counter(label: Name.success, dimensions: labels + [("finished_reason", reason == .cancelled ? "abort" : reason.rawValue)], factory: factory)
        }
        self.success = success
        rejected = CoreMetrics.Counter(label: Name.rejected, dimensions: labels, factory: factory)
        draftTokens = CoreMetrics.Counter(label: Name.draftTokens, dimensions: labels, factory: factory)
        acceptedTokens = CoreMetrics.Counter(label: Name.acceptedTokens, dimensions: labels, factory: factory)
        running = CoreMetrics.Gauge(label: Name.running, dimensions: labels, factory: factory)
        waiting = CoreMetrics.Gauge(label: Name.waiting, dimensions: labels, factory: factory)
        kvUsage = CoreMetrics.Gauge(label: Name.kvUsage, dimensions: labels, factory: factory)
        kvBlocksUsed = CoreMetrics.Gauge(label: Name.kvBlocksUsed, dimensions: labels, factory: factory)
        kvBlocksTotal = CoreMetrics.Gauge(label: Name.kvBlocksTotal, dimensions: labels, factory: factory)
        prefixQueries = CoreMetrics.Counter(label: Name.prefixQueries, dimensions: labels, factory: factory)
        prefixHits = CoreMetrics.Counter(label: Name.prefixHits, dimensions: labels, factory: factory)
        preemptions = CoreMetrics.Counter(label: Name.preemptions, dimensions: labels, factory: factory)
    }

    /// Records a finished engine request (called on the engine thread).
    func record(_ result: GenerationResult) {
        let m = result.metrics
        promptTokens.increment(by: m.promptTokenCount)
        generationTokens.increment(by: m.generatedTokenCount)
        success[result.finishReason]?.increment()
        if let value = m.timeToFirstToken { timeToFirstToken.recordSeconds(value) }
        if let value = m.endToEndTime { endToEndLatency.recordSeconds(value) }
        if let value = m.queueTime { queueTime.recordSeconds(value) }
        for gap in m.interTokenLatencies { interTokenLatency.recordSeconds(gap) }
        if m.draftTokensProposed > 0 {
            draftTokens.increment(by: m.draftTokensProposed)
            acceptedTokens.increment(by: m.draftTokensAccepted)
        }
    }

    /// Counts a request refused with 429.
    func recordRejection() { rejected.increment() }

    /// The Prometheus text exposition, engine gauges brought up to date first.
    func exposition(engine: EngineMetrics) -> String {
        running.record(engine.runningRequests)
        waiting.record(engine.waitingRequests)
        kvBlocksUsed.record(engine.kvBlocksUsed)
        kvBlocksTotal.record(engine.kvBlocksTotal)
        kvUsage.record(engine.kvBlocksTotal > 0 ? Double(engine.kvBlocksUsed) / Double(engine.kvBlocksTotal) : 0)
        published.withLock { last in
            prefixQueries.increment(by: max(0, engine.prefixQueryTokens - last.prefixQueryTokens))
            prefixHits.increment(by: max(0, engine.prefixHitTokens - last.prefixHitTokens))
            preemptions.increment(by: max(0, engine.preemptions - last.preemptions))
            last.prefixQueryTokens = max(last.prefixQueryTokens, engine.prefixQueryTokens)
            last.prefixHitTokens = max(last.prefixHitTokens, engine.prefixHitTokens)
            last.preemptions = max(last.preemptions, engine.preemptions)
        }
        return registry.emitToString()
    }
}
