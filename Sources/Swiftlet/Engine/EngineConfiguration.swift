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

    public init(threadCount: Int = 2, maxBatchTokens: Int = 512, maxSequences: Int = 64,
                kvCacheMegabytes: Int = 1024, kvCacheBlocks: Int? = nil, blockSize: Int = 16, kvCacheType: KVCacheType = .f32, maxContext: Int? = nil,
                prefixCaching: Bool = true, maxDraftTokens: Int = 4, adaptiveDraftLength: Bool = true,
                kernelPath: KernelPath? = nil) {
        self.kernelPath = kernelPath
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

    func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw GenerationError.invalidRequest(message) }
        }
        try check(threadCount >= 1 && threadCount <= 256, "thread count must be 1...256")
        try check(maxBatchTokens >= 1 && maxBatchTokens <= 65536, "max batch tokens must be 1...65536")
        try check(maxSequences >= 1 && maxSequences <= 4096, "max sequences must be 1...4096")
        try check(kvCacheMegabytes >= 1, "KV cache size must be at least 1 MB")
        try check(kvCacheBlocks.map { $0 >= 1 } ?? true, "KV cache needs at least one block")
        try check(blockSize >= 1 && blockSize <= 1024, "block size must be 1...1024")
        try check(maxDraftTokens >= 0 && maxDraftTokens <= 64, "draft tokens must be 0...64")
        try check(maxContext.map { $0 >= 2 } ?? true, "context must be at least 2 tokens")
    }
}
