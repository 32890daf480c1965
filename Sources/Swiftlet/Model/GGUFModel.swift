/// Reads a GGUF file's hyperparameters and weights through the architecture its
/// `general.architecture` names (`ArchitectureRegistry`).
struct GGUFModel {
    let file: GGUFFile
    let configuration: ModelConfiguration
    private let architecture: any Architecture.Type
    private let tensors: TensorMap

    init(file: GGUFFile) throws {
        self.file = file
        let name = try file.metadata.string("general.architecture") ?? "llama"
        architecture = try ArchitectureRegistry.architecture(named: name)
        tensors = TensorMap(file: file)
        let configuration = try architecture.configuration(ArchitectureKeys(metadata: file.metadata, prefix: name), tensors: tensors)
        try configuration.validate()
        self.configuration = configuration
    }

    /// The weights, multiplied as stored: matrices point into the mapping in their file
    /// format; norms in a format other than F32 are decoded to owned F32 buffers.
    func weights() throws -> ModelWeights {
        let c = configuration
        let layers = try (0..<c.layerCount).map { try architecture.layer($0, c, tensors: tensors) }
        let embedding = try tensors.matrix("token_embd.weight", out: c.vocabularySize, in: c.dimension)
        let classifier = c.tiedEmbeddings ? embedding : try tensors.matrix("output.weight", out: c.vocabularySize, in: c.dimension)
        if tensors.contains("output.bias") { throw ModelFileError.unsupported("classifier bias 'output.bias'") }
        let factors = try tensors.optionalVector("rope_freqs.weight", c.ropeDimensionCount / 2)
        if let factors {
            for i in 0..<c.ropeDimensionCount / 2 where !(factors[i] > 0 && factors[i].isFinite) {
                throw ModelFileError.malformed("rope_freqs.weight[\(i)] = \(factors[i]) is not a positive number")
            }
        }
        return ModelWeights(
            configuration: c, tokenEmbedding: embedding, layers: layers,
            outputNorm: try tensors.vector("output_norm.weight", c.dimension), classifier: classifier,
            ropeFrequencyFactors: factors, storage: tensors.storage)
    }
}
