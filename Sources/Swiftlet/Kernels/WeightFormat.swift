/// How the kernels multiply one ggml tensor type as stored, in the spirit of ggml's type
/// traits: the block shape, the activation format the weights are dotted with, and the row
/// dequantizer. The C kernel layer owns the numbers; this is their Swift face.
///
/// | type | block | bytes | activations |
/// |---|---|---|---|
/// | F32 | 1 | 4 | F32 rows |
/// | F16, BF16 | 1 | 2 | F32 rows (weights widened exactly as read) |
/// | Q8_0, Q4_0 | 32 | 34, 18 | 8-bit blocks with one scale each, quantized per row |
/// | Q4_1, Q5_0, Q5_1, IQ4_NL | 32 | 20, 22, 24, 18 | the same 8-bit blocks (Q4_1/Q5_1 take their block sums from the rows' correction terms) |
/// | Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS | 256 | 84, 110, 144, 176, 210, 136 | 8-bit 256-element blocks with one scale and per-16 sums (Q8_K-style), quantized per row |
public struct WeightFormat: Sendable, Hashable, CustomStringConvertible {
    /// The format activations are brought to before they meet these weights.
    public enum Activations: Sendable, Hashable {
        /// Rows of F32, as computed.
        case floats
        /// Rows quantized to 32-element 8-bit blocks (one scale per block), Q8_0-style; the
        /// layout also yields each block's sum, which the formats with a min (Q4_1, Q5_1) need.
        case blocks8
        /// Rows quantized to 256-element 8-bit blocks (one scale and sixteen 16-element sums
        /// per block), Q8_K-style: the super-block formats.
        case superBlocks8
    }

    /// The ggml tensor type.
    public let type: GGMLType
    /// Elements per block.
    public let blockSize: Int
    /// Bytes per block.
    public let blockBytes: Int
    /// What activations are quantized to for these weights.
    public let activations: Activations

    /// The format of `type`, or nil when the kernels cannot multiply it as stored.
    public init?(_ type: GGMLType) {
        guard KernelTypes.supported(type.rawValue) else { return nil }
        self.type = type
        blockSize = KernelTypes.blockSize(type.rawValue)
        blockBytes = KernelTypes.blockBytes(type.rawValue)
        activations = blockSize == 1 ? .floats : blockSize == 256 ? .superBlocks8 : .blocks8
    }

    /// Every type the kernels multiply as stored.
    public static let all: [WeightFormat] = GGMLType.allCases.compactMap(WeightFormat.init)

    public var description: String { type.name }

    /// Whether a row of `columns` elements is a whole number of blocks.
    public func holdsRows(of columns: Int) -> Bool { columns > 0 && columns % blockSize == 0 }

    /// Bytes of one row of `columns` elements (a multiple of `blockSize`).
    public func rowBytes(columns: Int) -> Int { columns / blockSize * blockBytes }

    /// Bytes of one prepared activation row of `columns` elements.
    public func activationRowBytes(columns: Int) -> Int { KernelTypes.activationRowBytes(type: type.rawValue, k: columns) }

    /// Decodes one row of `count` elements at `source` to floats (`swk_dequantize_row`).
    public func dequantizeRow(_ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        KernelTypes.dequantizeRow(type: type.rawValue, source, into: destination, count: count)
    }

    /// The format name list for error messages ("F32, F16, Q4_0, ...").
    public static var supportedNames: String { all.map(\.type.name).joined(separator: ", ") }
}
