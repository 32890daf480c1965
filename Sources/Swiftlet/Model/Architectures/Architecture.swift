/// One `general.architecture` the decoder runs: how its hyperparameters are read from its
/// `{name}.*` keys and how its tensors map onto the shared layer recipe (`LayerWeights`
/// and `LayerSpec`). One file per architecture; `ArchitectureRegistry` lists them.
protocol Architecture {
    /// The `general.architecture` value.
    static var name: String { get }
    /// The hyperparameters, from `keys` and the tensors' shapes.
    static func configuration(_ keys: ArchitectureKeys, tensors: TensorMap) throws -> ModelConfiguration
    /// The weights of layer `index`.
    static func layer(_ index: Int, _ configuration: ModelConfiguration, tensors: TensorMap) throws -> LayerWeights
}

/// The architectures Swiftlet runs, by `general.architecture`.
enum ArchitectureRegistry {
    static let architectures: [any Architecture.Type] = [Llama.self, Qwen2.self, Gemma3.self, Phi3.self]

    /// The architecture named `name`; an error listing the supported ones otherwise.
    static func architecture(named name: String) throws -> any Architecture.Type {
        guard let architecture = architectures.first(where: { $0.name == name }) else {
            throw ModelFileError.unsupported("architecture '\(name)' (supported: \(names.joined(separator: ", ")))")
        }
        return architecture
    }

    /// The supported `general.architecture` values.
    static var names: [String] { architectures.map { $0.name } }
}

/// The tensors of one layer under llama.cpp's names, shared by the architectures:
/// `attn_norm`, `attn_q`/`attn_k`/`attn_v` or a fused `attn_qkv` (optional biases),
/// `attn_output` (optional bias), optional `attn_q_norm`/`attn_k_norm`,
/// `post_attention_norm`, `ffn_norm`, `ffn_gate` + `ffn_up` or a fused `ffn_up` of twice
/// the hidden width (gate rows first), `ffn_down`, optional `post_ffw_norm`.
struct LayerTensors {
    /// Tensors that must be present beyond the base set.
    struct Requirements {
        var queryKeyNorms = false
        var postNorms = false
    }

    static func load(_ index: Int, _ c: ModelConfiguration, tensors: TensorMap, requiring required: Requirements = Requirements()) throws
        -> LayerWeights {
        let p = "blk.\(index)."
        let d = c.dimension, h = c.hiddenDimension, q = c.queryDimension, kv = c.kvDimension, hd = c.headDimension
        func norm(_ name: String, _ count: Int, required: Bool) throws -> UnsafePointer<Float>? {
            required ? try tensors.vector(p + name, count) : try tensors.optionalVector(p + name, count)
        }
        let query: WeightMatrix, key: WeightMatrix, value: WeightMatrix
        var biases: [UnsafePointer<Float>?] = [nil, nil, nil]
        if tensors.contains(p + "attn_qkv.weight") {
            let parts = try tensors.fusedMatrix(p + "attn_qkv.weight", parts: [q, kv, kv], in: d)
            (query, key, value) = (parts[0], parts[1], parts[2])
            if tensors.contains(p + "attn_qkv.bias") {
                biases = try tensors.fusedVector(p + "attn_qkv.bias", parts: [q, kv, kv])
            }
        } else {
            query = try tensors.matrix(p + "attn_q.weight", out: q, in: d)
            key = try tensors.matrix(p + "attn_k.weight", out: kv, in: d)
            value = try tensors.matrix(p + "attn_v.weight", out: kv, in: d)
        }
        if biases[0] == nil {
            biases = [try tensors.optionalVector(p + "attn_q.bias", q), try tensors.optionalVector(p + "attn_k.bias", kv),
                      try tensors.optionalVector(p + "attn_v.bias", kv)]
        }
        let gate: WeightMatrix, up: WeightMatrix
        if tensors.contains(p + "ffn_gate.weight") {
            gate = try tensors.matrix(p + "ffn_gate.weight", out: h, in: d)
            up = try tensors.matrix(p + "ffn_up.weight", out: h, in: d)
        } else {
            let parts = try tensors.fusedMatrix(p + "ffn_up.weight", parts: [h, h], in: d)
            (gate, up) = (parts[0], parts[1])
        }
        for name in ["ffn_gate.bias", "ffn_up.bias", "ffn_down.bias"] where tensors.contains(p + name) {
            throw ModelFileError.unsupported("feed-forward bias '\(p + name)'")
        }
        return LayerWeights(
            attentionNorm: try tensors.vector(p + "attn_norm.weight", d),
            query: query, key: key, value: value,
            output: try tensors.matrix(p + "attn_output.weight", out: d, in: q),
            ffnNorm: try tensors.vector(p + "ffn_norm.weight", d),
            gate: gate, up: up,
            down: try tensors.matrix(p + "ffn_down.weight", out: d, in: h),
            queryBias: biases[0], keyBias: biases[1], valueBias: biases[2],
            outputBias: try tensors.optionalVector(p + "attn_output.bias", d),
            queryNorm: try norm("attn_q_norm.weight", hd, required: required.queryKeyNorms),
            keyNorm: try norm("attn_k_norm.weight", hd, required: required.queryKeyNorms),
            postAttentionNorm: try norm("post_attention_norm.weight", d, required: required.postNorms),
            postFeedForwardNorm: try norm("post_ffw_norm.weight", d, required: required.postNorms))
    }
}
