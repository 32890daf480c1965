/// Engine-wide counters since start; a snapshot is a value.
public struct EngineMetrics: Sendable, Codable, Equatable {
    public var steps = 0
    public var promptTokensComputed = 0
    public var generatedTokens = 0
    public var requestsFinished = 0
    public var requestsCancelled = 0
    public var preemptions = 0
    /// Tokens in the step, summed (mean batch size = batchedTokens / steps).
    public var batchedTokens = 0
    public var maxBatchTokens = 0
    /// Sequences in a step, summed and at most.
    public var batchedSequences = 0
    public var maxBatchSequences = 0
    public var runningRequests = 0
    public var waitingRequests = 0
    public var kvBlocksTotal = 0
    public var kvBlocksUsed = 0
    public var peakKVBlocksUsed = 0
    /// Blocks used by more than one request now, and blocks holding cached prefixes.
    public var kvBlocksShared = 0
    public var kvBlocksCached = 0
    /// Prefix cache: prompt tokens looked up, and found cached.
    public var prefixQueryTokens = 0
    public var prefixHitTokens = 0
    public var prefixEvictions = 0
    /// Seconds spent inside forward steps.
    public var forwardSeconds = 0.0
    /// Decode steps of at most `decodeStepTokens` tokens (decode batches and speculative
    /// verification), and their seconds: the per-step cost speculation trades against.
    public var decodeSteps = 0
    public var decodeStepSeconds = 0.0
    /// Seconds spent drafting (the drafter's forwards and sampling), and the steps drafted for.
    public var draftSeconds = 0.0
    public var draftedSteps = 0
    public var startTime = 0.0

    public init() {}

    /// Largest step counted in `decodeSteps`: the kernels' skinny steps.
    public static let decodeStepTokens = Kernels.skinnyRows

    public var meanBatchTokens: Double { steps > 0 ? Double(batchedTokens) / Double(steps) : 0 }
    public var meanBatchSequences: Double { steps > 0 ? Double(batchedSequences) / Double(steps) : 0 }
    public var prefixHitRate: Double { prefixQueryTokens > 0 ? Double(prefixHitTokens) / Double(prefixQueryTokens) : 0 }
}
