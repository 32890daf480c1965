/// Tensor element types of GGUF files that Swiftlet reads (ggml's `ggml_type` codes).
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q8_0 = 8
    case bf16 = 30

    /// Elements per quantization block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q8_0: return 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 2 + 16  // f16 scale + 32 nibbles
        case .q8_0: return 2 + 32  // f16 scale + 32 int8
        }
    }

    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .q4_0: return "Q4_0"
        case .q8_0: return "Q8_0"
        case .bf16: return "BF16"
        }
    }

    /// The name of a ggml type code, also for codes Swiftlet does not read.
    static func name(ofCode code: UInt32) -> String {
        if let known = GGMLType(rawValue: code) { return known.name }
        let others: [UInt32: String] = [
            3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K",
            13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
        ]
        return others[code] ?? "type \(code)"
    }
}
