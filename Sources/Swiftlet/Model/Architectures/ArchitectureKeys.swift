/// The `{architecture}.*` metadata keys of a GGUF file, with the hyperparameters every
/// architecture shares read the way llama.cpp's loader reads them.
struct ArchitectureKeys {
    let metadata: GGUFMetadata
    /// The `general.architecture` value, the prefix of every key.
    let prefix: String

    /// An integer `{prefix}.{key}`; nil when absent.
    func int(_ key: String) throws -> Int? { try metadata.int("\(prefix).\(key)") }

    /// A number `{prefix}.{key}`; nil when absent.
    func double(_ key: String) throws -> Double? { try metadata.double("\(prefix).\(key)") }

    /// A string `{prefix}.{key}`; nil when absent.
    func string(_ key: String) throws -> String? { try metadata.string("\(prefix).\(key)") }

    /// An integer `{prefix}.{key}` that must be present.
    func required(_ key: String) throws -> Int {
        guard let value = try int(key) else {
            throw ModelFileError.malformed("missing metadata key '\(prefix).\(key)'")
        }
        return value
    }

    /// The shape and RoPE hyperparameters all four architectures read alike: embedding,
    /// block, head and feed-forward sizes, head width (`attention.key_length`, else
    /// dimension / heads), RoPE dimensions, base and linear scaling, RMS epsilon, and
    /// whether the classifier is tied (no `output.weight`).
    func baseConfiguration(tensors: TensorMap) throws -> ModelConfiguration {
        let dimension = try required("embedding_length")
        let headCount = try required("attention.head_count")
        let kvHeadCount = try int("attention.head_count_kv") ?? headCount
        guard let embedding = tensors.file.tensor(named: "token_embd.weight"), embedding.dimensions.count == 2 else {
            throw ModelFileError.malformed("missing 2-D tensor 'token_embd.weight'")
        }
        let vocabularySize = embedding.dimensions[1]
        let headDimension = try int("attention.key_length") ?? (headCount > 0 ? dimension / headCount : 0)
        if let valueLength = try int("attention.value_length"), valueLength != headDimension {
            throw ModelFileError.unsupported("value head length \(valueLength) differs from key head length \(headDimension)")
        }
        var c = ModelConfiguration(
            dimension: dimension,
            layerCount: try required("block_count"),
            headCount: headCount,
            kvHeadCount: kvHeadCount,
            headDimension: headDimension,
            hiddenDimension: try required("feed_forward_length"),
            vocabularySize: vocabularySize,
            contextLength: try required("context_length"),
            rmsNormEpsilon: Float(try double("attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeFrequencyBase: Float(try double("rope.freq_base") ?? 10000),
            tiedEmbeddings: !tensors.contains("output.weight"))
        c.architecture = prefix
        c.ropeDimensionCount = try int("rope.dimension_count") ?? headDimension
        c.ropeFrequencyScale = try ropeScale()
        if let declared = try int("vocab_size"), declared != vocabularySize {
            throw ModelFileError.malformed("\(prefix).vocab_size \(declared) differs from token_embd.weight's \(vocabularySize) rows")
        }
        return c
    }

    /// The position factor of `rope.scaling.*`: 1 / factor for linear scaling (or none);
    /// an error for schemes the decoder does not implement (YaRN, LongRoPE).
    private func ropeScale() throws -> Float {
        let type = try string("rope.scaling.type") ?? "linear"
        let factor = try double("rope.scaling.factor") ?? double("rope.scale_linear") ?? 0
        switch type {
        case "none":
            return 1
        case "linear":
            guard factor == 0 || (factor > 0 && factor.isFinite) else {
                throw ModelFileError.malformed("\(prefix).rope.scaling.factor \(factor) out of range")
            }
            return factor == 0 ? 1 : Float(1 / factor)
        default:
            guard factor == 0 || factor == 1 else {
                throw ModelFileError.unsupported("RoPE scaling '\(type)' (only none and linear are implemented)")
            }
            return 1
        }
    }
}
