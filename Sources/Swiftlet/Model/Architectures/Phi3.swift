/// `phi3` (Phi-3, Phi-3.5, Phi-4 mini): a fused `attn_qkv` projection, a fused `ffn_up` that
/// holds the gate rows then the up rows, RoPE on split halves (optionally partial), SwiGLU.
/// Like llama.cpp, the sliding window the converter records is not applied, and the
/// LongRoPE factor tensors are refused rather than ignored.
enum Phi3: Architecture {
    static let name = "phi3"

    static func configuration(_ keys: ArchitectureKeys, tensors: TensorMap) throws -> ModelConfiguration {
        var c = try keys.baseConfiguration(tensors: tensors)
        c.ropeStyle = .splitHalves
        for name in ["rope_factors_long.weight", "rope_factors_short.weight"] where tensors.contains(name) {
            throw ModelFileError.unsupported("LongRoPE factors ('\(name)')")
        }
        return c
    }

    static func layer(_ index: Int, _ configuration: ModelConfiguration, tensors: TensorMap) throws -> LayerWeights {
        try LayerTensors.load(index, configuration, tensors: tensors)
    }
}
