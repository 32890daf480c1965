/// What to generate from: text (tokenized by the model's tokenizer, BOS added per the
/// vocabulary) or token ids used exactly as given.
public enum Prompt: Sendable, Equatable {
    case text(String)
    case tokens([Int32])
}

/// How urgently a request wants its tokens. Each step fills its token budget with
/// interactive work first and gives batch work what is left; under KV-cache pressure batch
/// requests are preempted first (see `EngineConfiguration.priorityScheduling`).
public enum RequestPriority: Int, Sendable, Comparable, CaseIterable {
    /// Offline work (`swiftlet batch`, `/v1/batches`): throughput, not latency.
    case batch = 0
    /// A caller waiting for the answer.
    case interactive = 1

    public static func < (a: RequestPriority, b: RequestPriority) -> Bool { a.rawValue < b.rawValue }
}

/// Per-request generation settings.
public struct GenerationParameters: Sendable, Equatable {
    /// Most tokens to generate.
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation stops before any of these strings; the text does not include it.
    public var stopSequences: [String]
    /// Keep going past end-of-generation tokens (for benchmarks).
    public var ignoreEOS: Bool
    /// Interactive (the default) or batch.
    public var priority: RequestPriority

    public init(maxTokens: Int = 128, sampling: SamplingParameters = SamplingParameters(),
                stopSequences: [String] = [], ignoreEOS: Bool = false, priority: RequestPriority = .interactive) {
        self.priority = priority
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopSequences = stopSequences
        self.ignoreEOS = ignoreEOS
    }
}

/// Why a request ended.
public enum FinishReason: String, Sendable, Codable {
    /// `maxTokens` generated, or the context is full.
    case length
    /// An end-of-generation token or a stop sequence.
    case stop
    /// Cancelled by the caller.
    case cancelled
}

/// One streamed event of a request.
public enum GenerationEvent: Sendable {
    /// A generated token and the text it completes (may be empty while a multi-byte
    /// character or a possible stop sequence is pending).
    case token(id: Int32, text: String)
    /// Text released without a new token: at the end, what was held back.
    case text(String)
    /// The request ended; always the last event.
    case finished(GenerationResult)
}

/// A finished request: all its tokens, its text and what it experienced.
public struct GenerationResult: Sendable {
    public let requestID: Int
    public let promptTokens: [Int32]
    public let tokens: [Int32]
    /// nil when the engine has no tokenizer.
    public let text: String?
    public let finishReason: FinishReason
    public let metrics: RequestMetrics
}

/// Errors a request can fail with before it runs.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case invalidRequest(String)
    case engineStopped

    public var description: String {
        switch self {
        case .invalidRequest(let message): return "invalid request: \(message)"
        case .engineStopped: return "the engine has stopped"
        }
    }
}
