/// Encodes F32 values in a ggml tensor type, block by block as ggml lays them out: for the
/// project's own test models, kernel tests and benchmarks (llama.cpp's `llama-quantize`
/// stays the outside reference for real files).
///
/// One file per family: this one holds the float formats, Q8_0 and Q4_0;
/// `WeightQuantizer+Block32.swift` Q4_1, Q5_0, Q5_1 and IQ4_NL.
public enum WeightQuantizer {
    /// Errors for a type or shape the quantizer cannot write.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// `values` (rows of `columns`) encoded as `type`; `columns` must be whole blocks.
    public static func encode(_ values: [Float], columns: Int, as type: GGMLType) throws -> [UInt8] {
        guard columns > 0, columns % type.blockSize == 0, values.count % columns == 0 else {
            throw Failure(description: "\(values.count) values in rows of \(columns) are not whole \(type.name) blocks")
        }
        var out: [UInt8] = []
        out.reserveCapacity(values.count / type.blockSize * type.blockBytes)
        switch type {
        case .f32:
            for v in values { append(v.bitPattern, to: &out) }
        case .f16:
            for v in values { append(Float16(v).bitPattern, to: &out) }
        case .bf16:
            for v in values { append(bf16(v), to: &out) }
        case .q8_0:
            for start in stride(from: 0, to: values.count, by: 32) {
                let block = values[start..<(start + 32)]
                let amax = block.reduce(0) { max($0, abs($1)) }
                let d = amax / 127
                let inverse: Float = d != 0 ? 1 / d : 0
                append(Float16(d).bitPattern, to: &out)
                for v in block { out.append(UInt8(bitPattern: Int8((v * inverse).rounded()))) }
            }
        case .q4_0:
            for start in stride(from: 0, to: values.count, by: 32) {
                let block = Array(values[start..<(start + 32)])
                // The value of largest magnitude, with its sign, maps to -8.
                var signedMax: Float = 0
                for v in block where abs(v) > abs(signedMax) { signedMax = v }
                let d = signedMax / -8
                let inverse: Float = d != 0 ? 1 / d : 0
                append(Float16(d).bitPattern, to: &out)
                func level(_ v: Float) -> UInt8 { UInt8(min(15, max(0, Int((v * inverse + 8.5).rounded(.down))))) }
                for j in 0..<16 { out.append(level(block[j]) | level(block[j + 16]) << 4) }
            }
        case .q4_1, .q5_0, .q5_1, .iq4_nl:
            for start in stride(from: 0, to: values.count, by: 32) {
                encodeBlock32(values[start..<(start + 32)], as: type, into: &out)
            }
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs:
            out = encodeSuperBlocks(values, as: type)
        default:
            throw Failure(description: "the quantizer cannot write \(type.name) (it writes \(writableTypes.map(\.name).joined(separator: ", ")))")
        }
        return out
    }

    /// Every type `encode` writes.
    public static let writableTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0] + block32Types + superBlockTypes

    /// Round-to-nearest-even BF16 bits of `v` (NaN stays NaN).
    static func bf16(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}
