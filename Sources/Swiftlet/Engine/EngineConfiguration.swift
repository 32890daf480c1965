/// How an engine is sized.
public struct EngineConfiguration: Sendable, Equatable {
    /// Compute threads, the engine thread included.
    public var threadCount: Int
    /// Token budget of one step (decode tokens plus prompt chunks).
    public var maxBatchTokens: Int
    /// Most requests running at once.
    public var maxSequences: Int
    /// Memory for keys and values; the pool has as many blocks as fit.
    public var kvCacheMegabytes: Int
    /// Exact number of KV blocks; overrides `kvCacheMegabytes` when set.
    public var kvCacheBlocks: Int?
    /// Tokens per KV block.
    public var blockSize: Int
    /// Number format of cached keys and values (`f16` halves the cache's memory and the
    /// bytes attention reads; `f32` keeps them exact).
    public var kvCacheType: KVCacheType
    /// Longest sequence (prompt plus generated); nil = the model's context length.
    public var maxContext: Int?
    /// Share KV blocks between requests with a common prefix.
    public var prefixCaching: Bool
    /// Speculative decoding: most draft tokens per request and step (with a drafter).
    public var maxDraftTokens: Int
    /// Choose each step's draft length from measured acceptance and step costs (down to
    /// none); off, always draft `maxDraftTokens`.
    public var adaptiveDraftLength: Bool
    /// CPU path of the kernels; nil = the default (the best the CPU has, or `SWIFTLET_CPU`).
    public var kernelPath: KernelPath?
    /// Schedule by `RequestPriority` (interactive work first, batch work preempted first);
    /// off, every request is served first come, first served.
    public var priorityScheduling = true
    /// With priorities: most tokens batch requests get in a step while interactive requests
    /// are running or waiting (shorter steps, lower interactive latency); nil = no cap.
    public var batchTokensBesideInteractive: Int? = 16
    /// With that cap: how long batch requests stay capped after the last step that saw an
    /// interactive request, in milliseconds (a steady interactive stream then never finds a
    /// full batch step in its way); 0 = only while one is in the engine.
    public var interactiveWindowMilliseconds = 1000
    /// Most memory the engine may plan for, in MiB (see `MemoryPlan`); nil = what the
    /// machine has available.
    public var maxMemoryMegabytes: Int?

    public init(threadCount: Int = 2, maxBatchTokens: Int = 512, maxSequences: Int = 64,
                kvCacheMegabytes: Int = 1024, kvCacheBlocks: Int? = nil, blockSize: Int = 16, kvCacheType: KVCacheType = .f32, maxContext: Int? = nil,
                prefixCaching: Bool = true, maxDraftTokens: Int = 4, adaptiveDraftLength: Bool = true,
                kernelPath: KernelPath? = nil, maxMemoryMegabytes: Int? = nil) {
        self.kernelPath = kernelPath
        self.maxMemoryMegabytes = maxMemoryMegabytes
        self.maxDraftTokens = maxDraftTokens
        self.adaptiveDraftLength = adaptiveDraftLength
        self.prefixCaching = prefixCaching
        self.kvCacheBlocks = kvCacheBlocks
        self.threadCount = threadCount
        self.maxBatchTokens = maxBatchTokens
        self.maxSequences = maxSequences
        self.kvCacheMegabytes = kvCacheMegabytes
        self.blockSize = blockSize
        self.kvCacheType = kvCacheType
        self.maxContext = maxContext
    }

    /// Allowed thread counts.
    public static let threadCountRange = 1...256
    /// Allowed token budgets per step.
    public static let maxBatchTokensRange = 1...65536
    /// Allowed numbers of concurrent requests.
    public static let maxSequencesRange = 1...4096
    /// Allowed KV cache sizes in MiB (up to 1 TiB: the byte count never overflows).
    public static let kvCacheMegabytesRange = 1...(1 << 20)
    /// Allowed exact KV block counts.
    public static let kvCacheBlocksRange = 1...(1 << 24)
    /// Allowed tokens per KV block.
    public static let blockSizeRange = 1...1024
    /// Allowed draft lengths.
    public static let maxDraftTokensRange = 0...64
    /// Allowed interactive windows in milliseconds (up to an hour).
    public static let interactiveWindowMillisecondsRange = 0...3_600_000
    /// Allowed memory limits in MiB (up to 1 TiB).
    public static let maxMemoryMegabytesRange = 1...(1 << 20)
    /// Allowed context lengths (a model's own limit is 2^24).
    public static let maxContextRange = 2...(1 << 24)

    /// The KV cache's byte budget, `kvCacheMegabytes` MiB, or nil when it overflows.
    public var kvCacheBytes: Int? {
        let (bytes, overflow) = kvCacheMegabytes.multipliedReportingOverflow(by: 1 << 20)
        return overflow ? nil : bytes
    }

    /// Throws `GenerationError.invalidRequest` naming the first setting outside its range.
    public func validate() throws {
        func check(_ value: Int, _ range: ClosedRange<Int>, _ name: String) throws {
            guard range.contains(value) else {
                throw GenerationError.invalidRequest("\(name) must be \(range.lowerBound)...\(range.upperBound) (got \(value))")
            }
        }
        try check(threadCount, Self.threadCountRange, "thread count")
        try check(maxBatchTokens, Self.maxBatchTokensRange, "max batch tokens")
        try check(maxSequences, Self.maxSequencesRange, "max sequences")
        try check(kvCacheMegabytes, Self.kvCacheMegabytesRange, "KV cache size in MB")
        if let kvCacheBlocks { try check(kvCacheBlocks, Self.kvCacheBlocksRange, "KV cache block count") }
        try check(blockSize, Self.blockSizeRange, "block size")
        try check(maxDraftTokens, Self.maxDraftTokensRange, "draft tokens")
        if let maxContext { try check(maxContext, Self.maxContextRange, "context") }
        if let batchTokensBesideInteractive {
            try check(batchTokensBesideInteractive, Self.maxBatchTokensRange, "batch tokens beside interactive requests")
        }
        try check(interactiveWindowMilliseconds, Self.interactiveWindowMillisecondsRange, "interactive window in milliseconds")
        if let maxMemoryMegabytes { try check(maxMemoryMegabytes, Self.maxMemoryMegabytesRange, "memory limit in MB") }
    }

    /// `maxMemoryMegabytes` in bytes (within its range it never overflows).
    public var maxMemoryBytes: Int? { maxMemoryMegabytes.map { $0 << 20 } }
}
