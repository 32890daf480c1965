/// One decoder block's weights. Matrices are `[out x in]`. The optional tensors switch on
/// sublayers of the shared layer recipe: biases after the projections, QK-norm, and norms
/// after the attention and feed-forward sublayers (Gemma).
public struct LayerWeights: @unchecked Sendable {
    public let attentionNorm: UnsafePointer<Float>  // (dim)
    public let query: WeightMatrix                  // (heads * headDim, dim)
    public let key: WeightMatrix                    // (kvDim, dim)
    public let value: WeightMatrix                  // (kvDim, dim)
    public let output: WeightMatrix                 // (dim, heads * headDim)
    public let ffnNorm: UnsafePointer<Float>        // (dim)
    public let gate: WeightMatrix                   // (hidden, dim)
    public let up: WeightMatrix                     // (hidden, dim)
    public let down: WeightMatrix                   // (dim, hidden)
    public var queryBias: UnsafePointer<Float>?     // (heads * headDim)
    public var keyBias: UnsafePointer<Float>?       // (kvDim)
    public var valueBias: UnsafePointer<Float>?     // (kvDim)
    public var outputBias: UnsafePointer<Float>?    // (dim)
    public var queryNorm: UnsafePointer<Float>?     // (headDim) RMSNorm of each query head before RoPE
    public var keyNorm: UnsafePointer<Float>?       // (headDim) RMSNorm of each key head before RoPE
    public var postAttentionNorm: UnsafePointer<Float>?    // (dim) RMSNorm of the attention output
    public var postFeedForwardNorm: UnsafePointer<Float>?  // (dim) RMSNorm of the feed-forward output

    public init(attentionNorm: UnsafePointer<Float>, query: WeightMatrix, key: WeightMatrix, value: WeightMatrix, output: WeightMatrix,
                ffnNorm: UnsafePointer<Float>, gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix,
                queryBias: UnsafePointer<Float>? = nil, keyBias: UnsafePointer<Float>? = nil, valueBias: UnsafePointer<Float>? = nil,
                outputBias: UnsafePointer<Float>? = nil, queryNorm: UnsafePointer<Float>? = nil, keyNorm: UnsafePointer<Float>? = nil,
                postAttentionNorm: UnsafePointer<Float>? = nil, postFeedForwardNorm: UnsafePointer<Float>? = nil) {
        (self.attentionNorm, self.query, self.key, self.value, self.output) = (attentionNorm, query, key, value, output)
        (self.ffnNorm, self.gate, self.up, self.down) = (ffnNorm, gate, up, down)
        (self.queryBias, self.keyBias, self.valueBias, self.outputBias) = (queryBias, keyBias, valueBias, outputBias)
        (self.queryNorm, self.keyNorm) = (queryNorm, keyNorm)
        (self.postAttentionNorm, self.postFeedForwardNorm) = (postAttentionNorm, postFeedForwardNorm)
    }
}

/// All weights of a decoder. Matrices point into the file's memory map in their stored
/// format; norms stored in other formats were decoded at load into F32 buffers this object owns.
public final class ModelWeights: @unchecked Sendable {
    public let configuration: ModelConfiguration
    public let tokenEmbedding: WeightMatrix         // (vocab, dim)
    public let layers: [LayerWeights]
    public let outputNorm: UnsafePointer<Float>     // (dim)
    public let classifier: WeightMatrix             // (vocab, dim), may alias tokenEmbedding
    /// Divisors of the RoPE frequencies (`rope_freqs.weight`, Llama 3.x), one per rotated pair.
    public let ropeFrequencyFactors: UnsafePointer<Float>?  // (ropeDimensionCount / 2)
    /// Keeps the memory map and the decoded buffers alive.
    private let storage: WeightStorage

    init(configuration: ModelConfiguration, tokenEmbedding: WeightMatrix, layers: [LayerWeights],
         outputNorm: UnsafePointer<Float>, classifier: WeightMatrix, ropeFrequencyFactors: UnsafePointer<Float>? = nil,
         storage: WeightStorage) {
        self.ropeFrequencyFactors = ropeFrequencyFactors
        self.configuration = configuration
        self.tokenEmbedding = tokenEmbedding
        self.layers = layers
        self.outputNorm = outputNorm
        self.classifier = classifier
        self.storage = storage
    }

    /// Formats of the matrices that read the normed residual rows (query, key, value, gate, up).
    public var inputFormats: [WeightFormat] { layers.flatMap { [$0.query.format, $0.key.format, $0.value.format, $0.gate.format, $0.up.format] } }
    /// Formats of the matrices that read attention outputs.
    public var attentionOutputFormats: [WeightFormat] { layers.map(\.output.format) }
    /// Formats of the matrices that read the FFN's hidden rows.
    public var downFormats: [WeightFormat] { layers.map(\.down.format) }

    /// Bytes of the checkpoint file mapped into memory (0 when it was read into memory).
    public var mappedByteCount: Int { storage.file.isMapped ? storage.file.bytes.count : 0 }

    /// Bytes of weights in process memory: decoded buffers, and the file when not mapped.
    public var residentByteCount: Int { storage.residentByteCount + (storage.file.isMapped ? 0 : storage.file.bytes.count) }

    /// Bytes of weights read per token (every matrix once; the embedding row is not counted).
    public var bytesPerToken: Int {
        layers.reduce(classifier.byteCount) { total, layer in
            total + [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down].reduce(0) { $0 + $1.byteCount }
        }
    }
}

/// Owner of weight memory: the mapped file and any decoded buffers.
final class WeightStorage: @unchecked Sendable {
    let file: MappedFile
    private var buffers: [UnsafeMutablePointer<Float>] = []
    /// Bytes of `buffers`.
    private(set) var residentByteCount = 0

    init(file: MappedFile) {
        self.file = file
    }

    /// A new owned F32 buffer of `count` elements.
    func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        buffers.append(buffer)
        residentByteCount += count * 4
        return buffer
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }
}
