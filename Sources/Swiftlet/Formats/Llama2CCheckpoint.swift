/// A llama2.c checkpoint (`.bin`, version 0): a 7-int32 header (dim, hidden_dim, n_layers,
/// n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means a separate
/// classifier follows) and then F32 weights in a fixed order.
struct Llama2CCheckpoint {
    let configuration: ModelConfiguration
    let file: MappedFile

    /// Float offsets (in elements) of each tensor group in the file.
    struct Layout {
        var tokenEmbedding = 0, attentionNorm = 0, query = 0, key = 0, value = 0, output = 0
        var ffnNorm = 0, gate = 0, down = 0, up = 0, finalNorm = 0, classifier = 0
        var totalFloats = 0
    }

    init(file: MappedFile) throws {
        self.file = file
        var reader = ByteReader(file.bytes)
        reader.section = "llama2.c header"
        var header: [Int] = []
        for _ in 0..<7 { header.append(Int(try reader.read(Int32.self))) }
        let (dim, hidden, layers, heads, kvHeads, rawVocab, seqLen) = (header[0], header[1], header[2], header[3], header[4], header[5], header[6])
        guard dim > 0, heads > 0, dim % heads == 0 else {
            throw ModelFileError.malformed("llama2.c header: dim \(dim) is not a positive multiple of n_heads \(heads)")
        }
        configuration = ModelConfiguration(
            dimension: dim, layerCount: layers, headCount: heads, kvHeadCount: kvHeads,
            hiddenDimension: hidden, vocabularySize: abs(rawVocab), contextLength: seqLen,
            rmsNormEpsilon: 1e-5, ropeFrequencyBase: 10000, tiedEmbeddings: rawVocab > 0)
        try configuration.validate()
        let layout = try Self.layout(configuration)
        let (bytes, overflow) = layout.totalFloats.multipliedReportingOverflow(by: 4)
        guard !overflow, 28 + bytes <= file.bytes.count else {
            throw ModelFileError.malformed("llama2.c checkpoint truncated: header promises \(layout.totalFloats) floats, file has \((file.bytes.count - 28) / 4)")
        }
    }

    static func layout(_ c: ModelConfiguration) throws -> Layout {
        var l = Layout()
        var cursor = 0
        func take(_ count: Int) throws -> Int {
            let start = cursor
            let (next, overflow) = cursor.addingReportingOverflow(count)
            guard !overflow, next < 1 << 40 else { throw ModelFileError.malformed("llama2.c checkpoint size overflows") }
            cursor = next
            return start
        }
        let L = c.layerCount, d = c.dimension
        l.tokenEmbedding = try take(c.vocabularySize * d)
        l.attentionNorm = try take(L * d)
        l.query = try take(L * d * c.queryDimension)
        l.key = try take(L * d * c.kvDimension)
        l.value = try take(L * d * c.kvDimension)
        l.output = try take(L * c.queryDimension * d)
        l.ffnNorm = try take(L * d)
        l.gate = try take(L * d * c.hiddenDimension)
        l.down = try take(L * c.hiddenDimension * d)
        l.up = try take(L * d * c.hiddenDimension)
        l.finalNorm = try take(d)
        _ = try take(c.contextLength * c.headDimension)  // legacy freq_cis_real and freq_cis_imag
        l.classifier = c.tiedEmbeddings ? l.tokenEmbedding : try take(c.vocabularySize * d)
        l.totalFloats = cursor
        return l
    }

    /// The weights, pointing into the memory map.
    func weights() throws -> ModelWeights {
        let c = configuration
        let l = try Self.layout(c)
        let base = file.bytes.baseAddress!.advanced(by: 28).assumingMemoryBound(to: Float.self)
        func matrix(_ offset: Int, _ rows: Int, _ columns: Int) -> WeightMatrix {
            WeightMatrix(f32: base + offset, rows: rows, columns: columns)
        }
        let d = c.dimension, h = c.hiddenDimension, q = c.queryDimension, kv = c.kvDimension
        let layers = (0..<c.layerCount).map { i in
            LayerWeights(
                attentionNorm: base + l.attentionNorm + i * d,
                query: matrix(l.query + i * d * q, q, d),
                key: matrix(l.key + i * d * kv, kv, d),
                value: matrix(l.value + i * d * kv, kv, d),
                output: matrix(l.output + i * q * d, d, q),
                ffnNorm: base + l.ffnNorm + i * d,
                gate: matrix(l.gate + i * d * h, h, d),
                up: matrix(l.up + i * d * h, h, d),
                down: matrix(l.down + i * h * d, d, h))
        }
        return ModelWeights(
            configuration: c, tokenEmbedding: matrix(l.tokenEmbedding, c.vocabularySize, d), layers: layers,
            outputNorm: base + l.finalNorm, classifier: matrix(l.classifier, c.vocabularySize, d),
            storage: WeightStorage(file: file))
    }
}
