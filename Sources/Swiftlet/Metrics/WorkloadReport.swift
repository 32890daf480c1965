/// How a set of requests ran through an engine: system-wide throughput and what each
/// request experienced. Made by `WorkloadRunner`.
public struct WorkloadReport: Sendable {
    public var results: [GenerationResult]
    /// First submission to last finish, seconds.
    public var wallSeconds: Double
    public var engine: EngineMetrics

    public var promptTokens: Int { results.reduce(0) { $0 + $1.metrics.promptTokenCount } }
    public var generatedTokens: Int { results.reduce(0) { $0 + $1.metrics.generatedTokenCount } }
    /// Prompt plus generated tokens over wall time.
    public var totalTokensPerSecond: Double { Double(promptTokens + generatedTokens) / wallSeconds }
    public var generatedTokensPerSecond: Double { Double(generatedTokens) / wallSeconds }
    /// Tokens after each request's first, over the time from the earliest first token to the
    /// last finish: the steady decode rate of the system.
    public var decodeTokensPerSecond: Double {
        let firsts = results.compactMap(\.metrics.firstTokenTime)
        let finishes = results.compactMap(\.metrics.finishTime)
        guard let start = firsts.min(), let end = finishes.max(), end > start else { return 0 }
        return Double(results.reduce(0) { $0 + max(0, $1.metrics.generatedTokenCount - 1) }) / (end - start)
    }
    public func requestTokensPerSecond(_ p: Double) -> Double? {
        Percentile.of(results.compactMap(\.metrics.tokensPerSecond), p)
    }
    public func timeToFirstToken(_ p: Double) -> Double? {
        Percentile.of(results.compactMap(\.metrics.timeToFirstToken), p)
    }
    public func interTokenLatency(_ p: Double) -> Double? {
        Percentile.of(results.flatMap(\.metrics.interTokenLatencies), p)
    }
    public var draftTokensProposed: Int { results.reduce(0) { $0 + $1.metrics.draftTokensProposed } }
    public var draftTokensAccepted: Int { results.reduce(0) { $0 + $1.metrics.draftTokensAccepted } }
    public var acceptanceRate: Double? {
        draftTokensProposed > 0 ? Double(draftTokensAccepted) / Double(draftTokensProposed) : nil
    }
    /// Generated tokens per target forward step a request took part in.
    public var meanTokensPerTargetStep: Double {
        let steps = results.reduce(0) { $0 + $1.metrics.targetSteps }
        return steps > 0 ? Double(generatedTokens) / Double(steps) : 0
    }
}
