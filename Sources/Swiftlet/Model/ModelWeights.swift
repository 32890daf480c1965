/// A read-only matrix, row-major `(rows, columns)`: a weight's `[out x in]`, in F32 or
/// in F16 (multiplied as stored, half the bytes; widening is exact, so the products are
/// the same as on an F32 copy).
public struct WeightMatrix: @unchecked Sendable {
    /// How the elements are stored.
    public enum Format: Sendable { case f32, f16 }
    /// `(rows, columns)` of `Float` (`.f32`) or `Float16` (`.f16`).
    public let elements: UnsafeRawPointer
    public let format: Format
    public let rows: Int
    public let columns: Int

    /// A matrix of F32 elements at `pointer` (not copied; the caller keeps them alive).
    public init(f32 pointer: UnsafePointer<Float>, rows: Int, columns: Int) {
        (elements, format, self.rows, self.columns) = (UnsafeRawPointer(pointer), .f32, rows, columns)
    }

    /// A matrix of F16 elements at `pointer` (not copied; the caller keeps them alive).
    public init(f16 pointer: UnsafePointer<Float16>, rows: Int, columns: Int) {
        (elements, format, self.rows, self.columns) = (UnsafeRawPointer(pointer), .f16, rows, columns)
    }

    /// Bytes of all elements.
    public var byteCount: Int { rows * columns * (format == .f32 ? 4 : 2) }

    /// Writes row `index` as `columns` floats to `destination`.
    public func copyRow(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        switch format {
        case .f32: Float.widen(elements.assumingMemoryBound(to: Float.self) + index * columns, into: destination, count: columns)
        case .f16: Float16.widen(elements.assumingMemoryBound(to: Float16.self) + index * columns, into: destination, count: columns)
        }
    }
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

/// All weights of a Llama decoder. F32 and F16 matrices point into the file's memory map;
/// other encodings (and norms in other formats) were decoded at load into F32 buffers this
/// object owns.
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
