/// `gemma3` (text decoder): embeddings scaled by √dimension, RMSNorm of each query and key
/// head (QK-norm), norms after the attention and feed-forward sublayers, GeGLU (tanh),
/// RoPE on split halves. With `attention.sliding_window` set, five layers in six (or
/// `attention.sliding_window_pattern`) attend through the window with their own RoPE base
/// (`rope.freq_base_swa`, default 10000, unscaled); the others are global.
///
/// Norm weights are used as stored: llama.cpp's converter already adds Gemma's 1 to them
/// (`(1 + w)` in the reference code).
enum Gemma3: Architecture {
    static let name = "gemma3"

    static func configuration(_ keys: ArchitectureKeys, tensors: TensorMap) throws -> ModelConfiguration {
        var c = try keys.baseConfiguration(tensors: tensors)
        c.ropeStyle = .splitHalves
        c.activation = .geluTanh
        c.embeddingScale = Float(c.dimension).squareRoot()
        if c.layerCount == 62 {  // the 27B model scales queries by the model width, as llama.cpp does
            c.attentionScale = 1 / Float(c.dimension / c.headCount).squareRoot()
        }
        if let cap = try keys.double("final_logit_softcapping"), cap != 0 { c.logitSoftcap = Float(cap) }
        if let window = try keys.int("attention.sliding_window"), window > 0 {
            let pattern = try keys.int("attention.sliding_window_pattern") ?? 6
            guard pattern >= 0 else { throw ModelFileError.malformed("gemma3.attention.sliding_window_pattern \(pattern) out of range") }
            let localBase = Float(try keys.double("rope.freq_base_swa") ?? 10000)
            c.layerSpecs = (0..<c.layerCount).map { i in
                let windowed = pattern == 0 || i % pattern < pattern - 1
                return windowed ? LayerSpec(slidingWindow: window, ropeFrequencyBase: localBase)
                    : LayerSpec(ropeFrequencyBase: c.ropeFrequencyBase, ropeFrequencyScale: c.ropeFrequencyScale)
            }
        }
        return c
    }

    static func layer(_ index: Int, _ configuration: ModelConfiguration, tensors: TensorMap) throws -> LayerWeights {
        try LayerTensors.load(index, configuration, tensors: tensors,
                              requiring: LayerTensors.Requirements(queryKeyNorms: true, postNorms: true))
    }
}
