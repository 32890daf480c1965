/// What one request experienced, in seconds on `MonotonicClock`.
public struct RequestMetrics: Sendable, Codable, Equatable {
    public var promptTokenCount = 0
    public var generatedTokenCount = 0
    /// Prompt tokens taken from the prefix cache instead of computed.
    public var cachedPromptTokenCount = 0
    /// Times the request was preempted and recomputed.
    public var preemptionCount = 0
    public var arrivalTime = 0.0
    /// When its first tokens entered a forward step.
    public var firstScheduledTime: Double?
    public var firstTokenTime: Double?
    public var finishTime: Double?
    /// Gaps between consecutive generated tokens.
    public var interTokenLatencies: [Double] = []
    /// Speculative decoding: tokens the drafter proposed and the target accepted.
    public var draftTokensProposed = 0
    public var draftTokensAccepted = 0
    /// Target forward steps that produced this request's generated tokens.
    public var targetSteps = 0

    public init() {}

    /// Waiting time before the first forward step.
    public var queueTime: Double? { firstScheduledTime.map { $0 - arrivalTime } }
    /// Arrival to first generated token (prefill included).
    public var timeToFirstToken: Double? { firstTokenTime.map { $0 - arrivalTime } }
    /// Arrival to finish.
    public var endToEndTime: Double? { finishTime.map { $0 - arrivalTime } }
    /// Generated tokens after the first over the time they took.
    public var decodeTokensPerSecond: Double? {
        guard let first = firstTokenTime, let finish = finishTime, generatedTokenCount > 1, finish > first else { return nil }
        return Double(generatedTokenCount - 1) / (finish - first)
    }
    /// Prompt tokens over the time from first scheduling to first token.
    public var prefillTokensPerSecond: Double? {
        guard let start = firstScheduledTime, let first = firstTokenTime, first > start else { return nil }
        return Double(promptTokenCount - cachedPromptTokenCount) / (first - start)
    }
    /// Generated tokens over the whole request time.
    public var tokensPerSecond: Double? {
        guard let total = endToEndTime, total > 0 else { return nil }
        return Double(generatedTokenCount) / total
    }
    /// Accepted over proposed draft tokens.
    public var acceptanceRate: Double? {
        draftTokensProposed > 0 ? Double(draftTokensAccepted) / Double(draftTokensProposed) : nil
    }
}
