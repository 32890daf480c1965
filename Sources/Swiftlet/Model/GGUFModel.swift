/// Reads a Llama-architecture GGUF file's hyperparameters and weights.
struct GGUFModel {
    let file: GGUFFile
    let configuration: ModelConfiguration

    init(file: GGUFFile) throws {
        self.file = file
        let meta = file.metadata
        let architecture = try meta.string("general.architecture") ?? "llama"
        guard architecture == "llama" else {
            throw ModelFileError.unsupported("architecture '\(architecture)' (only 'llama' is supported)")
        }
        func required(_ key: String) throws -> Int {
            guard let value = try meta.int("llama.\(key)") else {
                throw ModelFileError.malformed("missing metadata key 'llama.\(key)'")
            }
            return value
        }
        let dimension = try required("embedding_length")
        let headCount = try required("attention.head_count")
        let kvHeadCount = try meta.int("llama.attention.head_count_kv") ?? headCount
        guard let embedding = file.tensor(named: "token_embd.weight"), embedding.dimensions.count == 2 else {
            throw ModelFileError.malformed("missing 2-D tensor 'token_embd.weight'")
        }
        let vocabularySize = embedding.dimensions[1]
        let headDimension = try meta.int("llama.attention.key_length") ?? (headCount > 0 ? dimension / headCount : 0)
        let configuration = ModelConfiguration(
            dimension: dimension,
            layerCount: try required("block_count"),
            headCount: headCount,
            kvHeadCount: kvHeadCount,
            headDimension: headDimension,
            hiddenDimension: try required("feed_forward_length"),
            vocabularySize: vocabularySize,
            contextLength: try required("context_length"),
            rmsNormEpsilon: Float(try meta.double("llama.attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeFrequencyBase: Float(try meta.double("llama.rope.freq_base") ?? 10000),
            tiedEmbeddings: file.tensor(named: "output.weight") == nil)
        try configuration.validate()
        if let ropeDimensions = try meta.int("llama.rope.dimension_count"), ropeDimensions != headDimension {
            throw ModelFileError.unsupported("partial RoPE (rope dimension \(ropeDimensions) of head dimension \(headDimension))")
        }
        if let declared = try meta.int("llama.vocab_size"), declared != vocabularySize {
            throw ModelFileError.malformed("llama.vocab_size \(declared) differs from token_embd.weight's \(vocabularySize) rows")
        }
        self.configuration = configuration
    }

    /// The weights, multiplied as stored: matrices point into the mapping in their file
    /// format; norms in a format other than F32 are decoded to owned F32 buffers.
    func weights() throws -> ModelWeights {
        let c = configuration
        let storage = WeightStorage(file: file.file)
        func info(_ name: String, _ shape: [Int]) throws -> GGUFTensorInfo {
            guard let info = file.tensor(named: name) else {
                throw ModelFileError.malformed("missing tensor '\(name)'")
            }
            guard info.dimensions == shape || (shape.count == 1 && info.dimensions == [shape[0], 1]) else {
                throw ModelFileError.malformed("tensor '\(name)' has shape \(info.dimensions), expected \(shape)")
            }
            return info
        }
        func format(of info: GGUFTensorInfo) throws -> WeightFormat {
            guard let format = WeightFormat(info.type) else {
                throw ModelFileError.unsupported("tensor '\(info.name)' has type \(info.type.name), not one of \(WeightFormat.supportedNames)")
            }
            return format
        }
        func vector(_ name: String, _ count: Int) throws -> UnsafePointer<Float> {
            let info = try info(name, [count])
            let data = file.data(of: info)
            if info.type == .f32, Int(bitPattern: data.baseAddress) % 4 == 0 {
                return data.baseAddress!.assumingMemoryBound(to: Float.self)
            }
            let decoded = storage.allocate(info.elementCount)
            try format(of: info).dequantizeRow(data.baseAddress!, into: decoded, count: info.elementCount)
            return UnsafePointer(decoded)
        }
        // ggml shapes list the input (contiguous) dimension first.
        func matrix(_ name: String, out: Int, in inputs: Int) throws -> WeightMatrix {
            let info = try info(name, [inputs, out])
            let format = try format(of: info)
            guard format.holdsRows(of: inputs) else {
                throw ModelFileError.malformed("tensor '\(name)' rows of \(inputs) are not whole \(format) blocks")
            }
            return WeightMatrix(elements: file.data(of: info).baseAddress!, format: format, rows: out, columns: inputs)
        }
        let d = c.dimension, h = c.hiddenDimension, q = c.queryDimension, kv = c.kvDimension
        let layers = try (0..<c.layerCount).map { i in
            let p = "blk.\(i)."
            return LayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", d),
                query: try matrix(p + "attn_q.weight", out: q, in: d),
                key: try matrix(p + "attn_k.weight", out: kv, in: d),
                value: try matrix(p + "attn_v.weight", out: kv, in: d),
                output: try matrix(p + "attn_output.weight", out: d, in: q),
                ffnNorm: try vector(p + "ffn_norm.weight", d),
                gate: try matrix(p + "ffn_gate.weight", out: h, in: d),
                up: try matrix(p + "ffn_up.weight", out: h, in: d),
                down: try matrix(p + "ffn_down.weight", out: d, in: h))
        }
        let embedding = try matrix("token_embd.weight", out: c.vocabularySize, in: d)
        let classifier = c.tiedEmbeddings ? embedding : try matrix("output.weight", out: c.vocabularySize, in: d)
        return ModelWeights(
            configuration: c, tokenEmbedding: embedding, layers: layers,
            outputNorm: try vector("output_norm.weight", d), classifier: classifier, storage: storage)
    }
}
