/// How RoPE pairs the dimensions of a head it rotates.
public enum RopeStyle: String, Sendable, Codable {
    /// Adjacent pairs `(x[2i], x[2i+1])` (llama.cpp's "norm" mode: Llama).
    case adjacentPairs
    /// Split halves `(x[i], x[i + rotary / 2])` (llama.cpp's "neox" mode: Qwen2, Gemma 3, Phi-3).
    case splitHalves
}

/// The activation of the gated feed-forward layer: `down(act(gate(x)) * up(x))`.
public enum FeedForwardActivation: String, Sendable, Codable {
    /// SiLU (SwiGLU): Llama, Qwen2, Phi-3.
    case silu
    /// GELU, tanh approximation (GeGLU): Gemma 3.
    case geluTanh
}

/// What one decoder layer does, as data: the layer loop of `Transformer.forward` reads it
/// instead of branching on the architecture. Which optional sublayers a layer has (biases,
/// QK-norm, norms after a sublayer) follows from the tensors its `LayerWeights` hold.
public struct LayerSpec: Sendable, Equatable, Codable {
    /// Most recent positions a token attends to, itself included; nil attends to all.
    public var slidingWindow: Int?
    /// RoPE base frequency of this layer.
    public var ropeFrequencyBase: Float
    /// Factor on positions before RoPE (1 / linear scaling factor).
    public var ropeFrequencyScale: Float

    public init(slidingWindow: Int? = nil, ropeFrequencyBase: Float, ropeFrequencyScale: Float = 1) {
        self.slidingWindow = slidingWindow
        self.ropeFrequencyBase = ropeFrequencyBase
        self.ropeFrequencyScale = ropeFrequencyScale
    }
}
