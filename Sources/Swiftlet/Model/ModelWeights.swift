/// A read-only F32 matrix, row-major `(rows, columns)`: a weight's `[out x in]`.
public struct WeightMatrix: @unchecked Sendable {
    public let pointer: UnsafePointer<Float>
    public let rows: Int
    public let columns: Int
}

/// One decoder block's weights. Matrices are `[out x in]`.
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
}

/// All weights of a Llama decoder as F32. F32 tensors point into the file's memory map;
/// other encodings were decoded at load into buffers this object owns.
public final class ModelWeights: @unchecked Sendable {
    public let configuration: ModelConfiguration
    public let tokenEmbedding: WeightMatrix         // (vocab, dim)
    public let layers: [LayerWeights]
    public let outputNorm: UnsafePointer<Float>     // (dim)
    public let classifier: WeightMatrix             // (vocab, dim), may alias tokenEmbedding
    /// Keeps the memory map and the decoded buffers alive.
    private let storage: WeightStorage

    init(configuration: ModelConfiguration, tokenEmbedding: WeightMatrix, layers: [LayerWeights],
         outputNorm: UnsafePointer<Float>, classifier: WeightMatrix, storage: WeightStorage) {
        self.configuration = configuration
        self.tokenEmbedding = tokenEmbedding
        self.layers = layers
        self.outputNorm = outputNorm
        self.classifier = classifier
        self.storage = storage
    }

    /// Bytes of F32 weights read per token (every matrix once; the embedding row is not counted).
    public var bytesPerToken: Int {
        let c = configuration
        let perLayer = c.queryDimension * c.dimension * 2 + 2 * c.kvDimension * c.dimension + 3 * c.hiddenDimension * c.dimension
        return 4 * (c.layerCount * perLayer + c.vocabularySize * c.dimension)
    }
}

/// Owner of weight memory: the mapped file and any decoded buffers.
final class WeightStorage: @unchecked Sendable {
    let file: MappedFile
    private var buffers: [UnsafeMutablePointer<Float>] = []

    init(file: MappedFile) {
        self.file = file
    }

    /// A new owned F32 buffer of `count` elements.
    func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        buffers.append(buffer)
        return buffer
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }
}
