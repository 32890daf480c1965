/// Tensor element types of GGUF files that Swiftlet reads (ggml's `ggml_type` codes).
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q8_0 = 8
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case iq4_xs = 23
    case bf16 = 30

    /// Elements per quantization block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q8_0: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs: return 256  // super-blocks
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 2 + 16  // f16 scale + 32 nibbles
        case .q8_0: return 2 + 32  // f16 scale + 32 int8
        case .q2_K: return 16 + 64 + 2 + 2  // 4-bit scales and mins, 2-bit quants, d, dmin
        case .q3_K: return 32 + 64 + 12 + 2  // high bits, low 2 bits, 6-bit scales, d
        case .q4_K: return 2 + 2 + 12 + 128  // d, dmin, 6-bit scales and mins, nibbles
        case .q5_K: return 2 + 2 + 12 + 32 + 128  // as Q4_K plus the fifth bits
        case .q6_K: return 128 + 64 + 16 + 2  // low nibbles, high 2 bits, int8 scales, d
        case .iq4_xs: return 2 + 2 + 4 + 128  // d, scale high bits, scale low nibbles, code-book nibbles
        }
    }

    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .q4_0: return "Q4_0"
        case .q8_0: return "Q8_0"
        case .bf16: return "BF16"
        case .q2_K: return "Q2_K"
        case .q3_K: return "Q3_K"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        case .iq4_xs: return "IQ4_XS"
        }
    }

    /// The name of a ggml type code, also for codes Swiftlet does not read.
    static func name(ofCode code: UInt32) -> String {
        if let known = GGMLType(rawValue: code) { return known.name }
        let others: [UInt32: String] = [
            3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 15: "Q8_K", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
        ]
        return others[code] ?? "type \(code)"
    }
}
