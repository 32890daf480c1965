/// The hyperparameters of a decoder: the shape, and the data that tells the layer loop
/// what each architecture's layers do (`LayerSpec`, RoPE style, activation, scales).
public struct ModelConfiguration: Sendable, Equatable, Codable {
    /// `general.architecture` of the file ("llama" for llama2.c checkpoints).
    public var architecture: String = "llama"
    /// Width of the residual stream (`llama.embedding_length`).
    public var dimension: Int
    /// Decoder blocks (`llama.block_count`).
    public var layerCount: Int
    /// Query heads (`llama.attention.head_count`).
    public var headCount: Int
    /// Key/value heads (`llama.attention.head_count_kv`); fewer than `headCount` is GQA.
    public var kvHeadCount: Int
    /// Width of one head.
    public var headDimension: Int
    /// Width of the SwiGLU feed-forward layer (`llama.feed_forward_length`).
    public var hiddenDimension: Int
    public var vocabularySize: Int
    /// Longest sequence the model was trained for (`llama.context_length`).
    public var contextLength: Int
    public var rmsNormEpsilon: Float
    /// RoPE base frequency (`llama.rope.freq_base`).
    public var ropeFrequencyBase: Float
    /// Whether the classifier reuses the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Dimensions of each head that RoPE rotates (the first ones; the rest pass through).
    public var ropeDimensionCount: Int
    /// How RoPE pairs dimensions.
    public var ropeStyle: RopeStyle = .adjacentPairs
    /// Factor on positions before RoPE for layers without their own (1 / linear scaling factor).
    public var ropeFrequencyScale: Float = 1
    /// Factor on the token embeddings (Gemma: √dimension).
    public var embeddingScale: Float = 1
    /// The gated feed-forward layer's activation.
    public var activation: FeedForwardActivation = .silu
    /// Factor on the scores of attention; nil is 1/√headDimension.
    public var attentionScale: Float?
    /// `c · tanh(logit / c)` on the classifier's output when set (Gemma's final soft-capping).
    public var logitSoftcap: Float?
    /// Per-layer specs where layers differ (sliding windows, their own RoPE base); nil when
    /// every layer is `LayerSpec(ropeFrequencyBase: ropeFrequencyBase, ropeFrequencyScale: ropeFrequencyScale)`.
    public var layerSpecs: [LayerSpec]?

    public init(dimension: Int, layerCount: Int, headCount: Int, kvHeadCount: Int, headDimension: Int? = nil,
                hiddenDimension: Int, vocabularySize: Int, contextLength: Int,
                rmsNormEpsilon: Float = 1e-5, ropeFrequencyBase: Float = 10000, tiedEmbeddings: Bool = false) {
        self.dimension = dimension
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDimension = headDimension ?? (headCount > 0 ? dimension / headCount : 0)
        self.hiddenDimension = hiddenDimension
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeFrequencyBase = ropeFrequencyBase
        self.tiedEmbeddings = tiedEmbeddings
        ropeDimensionCount = self.headDimension
    }

    /// What layer `index` does.
    public func layerSpec(_ index: Int) -> LayerSpec {
        layerSpecs?[index] ?? LayerSpec(ropeFrequencyBase: ropeFrequencyBase, ropeFrequencyScale: ropeFrequencyScale)
    }

    /// The scale on attention scores.
    public var scoreScale: Float { attentionScale ?? 1 / Float(headDimension).squareRoot() }

    /// Whether any layer attends through a sliding window.
    public var hasSlidingWindows: Bool { layerSpecs?.contains { $0.slidingWindow != nil } ?? false }

    /// Width of all query heads together.
    public var queryDimension: Int { headCount * headDimension }
    /// Width of one token's keys (or values) over all KV heads.
    public var kvDimension: Int { kvHeadCount * headDimension }
    /// Query heads per KV head.
    public var groupSize: Int { headCount / kvHeadCount }

    /// Parameters, counting a tied classifier once.
    public var parameterCount: Int {
        let perLayer = 2 * dimension + dimension * queryDimension * 2 + 2 * dimension * kvDimension
            + 3 * dimension * hiddenDimension
        return vocabularySize * dimension * (tiedEmbeddings ? 1 : 2) + layerCount * perLayer + dimension
    }

    /// Checks the shape is one the decoder can run; throws a message naming the problem.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw ModelFileError.malformed(message) }
        }
        let limit = 1 << 20
        try check(dimension > 0 && dimension <= limit, "embedding length \(dimension) out of range")
        try check(layerCount > 0 && layerCount <= 1024, "block count \(layerCount) out of range")
        try check(headCount > 0 && headCount <= 1024, "head count \(headCount) out of range")
        try check(kvHeadCount > 0 && kvHeadCount <= headCount && headCount % kvHeadCount == 0,
                  "KV head count \(kvHeadCount) must divide head count \(headCount)")
        try check(headDimension > 0 && headDimension % 2 == 0 && headDimension <= 1024,
                  "head dimension \(headDimension) must be even and positive")
        try check(hiddenDimension > 0 && hiddenDimension <= limit, "feed-forward length \(hiddenDimension) out of range")
        try check(vocabularySize > 0 && vocabularySize <= 1 << 24, "vocabulary size \(vocabularySize) out of range")
        try check(contextLength > 0 && contextLength <= 1 << 24, "context length \(contextLength) out of range")
        try check(rmsNormEpsilon >= 0 && rmsNormEpsilon < 1, "RMS norm epsilon \(rmsNormEpsilon) out of range")
        try check(ropeFrequencyBase > 1, "RoPE frequency base \(ropeFrequencyBase) out of range")
        try check(ropeDimensionCount >= 0 && ropeDimensionCount % 2 == 0 && ropeDimensionCount <= headDimension,
                  "RoPE dimension count \(ropeDimensionCount) must be even and at most the head dimension \(headDimension)")
        try check(ropeFrequencyScale > 0 && ropeFrequencyScale.isFinite, "RoPE frequency scale \(ropeFrequencyScale) out of range")
        try check(embeddingScale.isFinite, "embedding scale \(embeddingScale) is not finite")
        if let attentionScale { try check(attentionScale > 0 && attentionScale.isFinite, "attention scale \(attentionScale) out of range") }
        if let logitSoftcap { try check(logitSoftcap > 0 && logitSoftcap.isFinite, "final logit soft-capping \(logitSoftcap) out of range") }
        if let layerSpecs {
            try check(layerSpecs.count == layerCount, "\(layerSpecs.count) layer specs for \(layerCount) layers")
            for (i, spec) in layerSpecs.enumerated() {
                try check(spec.ropeFrequencyBase > 1 && spec.ropeFrequencyBase.isFinite, "layer \(i): RoPE frequency base \(spec.ropeFrequencyBase) out of range")
                try check(spec.ropeFrequencyScale > 0 && spec.ropeFrequencyScale.isFinite, "layer \(i): RoPE frequency scale \(spec.ropeFrequencyScale) out of range")
                if let window = spec.slidingWindow { try check(window > 0, "layer \(i): sliding window \(window) must be positive") }
            }
        }
    }
}
