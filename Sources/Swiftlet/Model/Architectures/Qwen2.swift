/// `qwen2` (Qwen2, Qwen2.5): biases on the query, key and value projections, RoPE on split
/// halves, SwiGLU; small models tie the classifier to the embeddings.
enum Qwen2: Architecture {
    static let name = "qwen2"

    static func configuration(_ keys: ArchitectureKeys, tensors: TensorMap) throws -> ModelConfiguration {
        var c = try keys.baseConfiguration(tensors: tensors)
        c.ropeStyle = .splitHalves
        return c
    }

    static func layer(_ index: Int, _ configuration: ModelConfiguration, tensors: TensorMap) throws -> LayerWeights {
        try LayerTensors.load(index, configuration, tensors: tensors)
    }
}
