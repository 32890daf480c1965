/// `llama` and its variants (Llama 1-3, SmolLM, TinyLlama, Mistral-style files): RoPE on
/// adjacent pairs, SwiGLU, a tied or separate classifier, `attention.key_length` heads,
/// `rope_freqs.weight` frequency factors (Llama 3.x) and linear RoPE scaling.
enum Llama: Architecture {
    static let name = "llama"

    static func configuration(_ keys: ArchitectureKeys, tensors: TensorMap) throws -> ModelConfiguration {
        let c = try keys.baseConfiguration(tensors: tensors)
        // llama.cpp rejects partial rotation for this architecture.
        if c.ropeDimensionCount != c.headDimension {
            throw ModelFileError.unsupported("partial RoPE (rope dimension \(c.ropeDimensionCount) of head dimension \(c.headDimension))")
        }
        return c
    }

    static func layer(_ index: Int, _ configuration: ModelConfiguration, tensors: TensorMap) throws -> LayerWeights {
        try LayerTensors.load(index, configuration, tensors: tensors)
    }
}
