/// Whole GGUF files: an F32/F16/BF16 file re-encoded in one weight type, as llama.cpp's
/// `llama-quantize` does for the "pure" legacy types. What is re-encoded:
/// - every tensor of two or more dimensions whose rows are whole blocks of the type;
/// - `token_embd.weight` and `output.weight` go to `embeddingType` instead (by default Q8_0
///   for a block type: llama.cpp also keeps these in a higher type, e.g. Q6_K output, because
///   the classifier's error shows in every logit);
/// - a matrix whose rows are not whole 256-element super-blocks gets llama.cpp's fallback
///   type for a super-block target (`fallbackType`: Q4_K → Q5_0, Q6_K → Q8_0, ...);
/// - 1-D tensors (norms) and rows that are not whole blocks of any such type keep their type.
/// Metadata is copied in order; `general.file_type` is set to llama.cpp's file type code.
extension WeightQuantizer {
    /// llama.cpp's `general.file_type` code of a file mostly in `type`, when it has one (the
    /// "Small" mixes for the super-block types: all matrices in the one type).
    public static func fileTypeCode(of type: GGMLType) -> Int? {
        let codes: [GGMLType: Int] = [.f32: 0, .f16: 1, .q4_0: 2, .q4_1: 3, .q8_0: 7, .q5_0: 8, .q5_1: 9, .q2_K: 10,
                                      .q3_K: 11, .q4_K: 14, .q5_K: 16, .q6_K: 18, .iq4_nl: 25, .iq4_xs: 30, .bf16: 32]
        return codes[type]
    }

    /// The 32-element type llama.cpp's quantizer writes instead of a super-block `type` for
    /// a matrix whose rows are not whole super-blocks (nil: no fallback, the tensor keeps its type).
    public static func fallbackType(for type: GGMLType) -> GGMLType? {
        switch type {
        case .q2_K, .q3_K, .iq4_xs: return .iq4_nl
        case .q4_K: return .q5_0
        case .q5_K: return .q5_1
        case .q6_K: return .q8_0
        default: return nil
        }
    }

    /// The type `token_embd.weight` and `output.weight` get when quantizing to `type`.
    public static func defaultEmbeddingType(for type: GGMLType) -> GGMLType {
        type.blockSize == 1 || type == .q8_0 ? type : .q8_0
    }

    /// `file` (tensors in F32, F16 or BF16) with its weights re-encoded as `type`, ready to
    /// serialize. Throws `Failure` for a type the quantizer cannot write or a weight tensor
    /// that is not in a float format.
    public static func quantize(_ file: GGUFFile, to type: GGMLType, embeddingType: GGMLType? = nil) throws -> GGUFWriter {
        let embeddingType = embeddingType ?? defaultEmbeddingType(for: type)
        for t in [type, embeddingType] where !writableTypes.contains(t) {
            throw Failure(description: "the quantizer cannot write \(t.name) (it writes \(writableTypes.map(\.name).joined(separator: ", ")))")
        }
        var writer = GGUFWriter()
        writer.alignment = file.alignment
        for key in file.metadata.keys where key != "general.file_type" {
            writer.add(key, file.metadata[key]!)
        }
        if let code = fileTypeCode(of: type) { writer.add("general.file_type", .uint32(UInt32(code))) }
        for tensor in file.tensors {
            var target = tensor.name == "token_embd.weight" || tensor.name == "output.weight" ? embeddingType : type
            let columns = tensor.dimensions[0]
            if columns % target.blockSize != 0, let fallback = fallbackType(for: target) { target = fallback }
            guard tensor.dimensions.count >= 2, columns % target.blockSize == 0, tensor.type != target else {
                writer.addTensor(tensor.name, dimensions: tensor.dimensions, type: tensor.type, data: Array(file.data(of: tensor)))
                continue
            }
            guard [.f32, .f16, .bf16].contains(tensor.type), let source = WeightFormat(tensor.type) else {
                throw Failure(description: "tensor '\(tensor.name)' is \(tensor.type.name); the quantizer reads F32, F16 or BF16 weights")
            }
            var values = [Float](repeating: 0, count: tensor.elementCount)  // (rows, columns)
            values.withUnsafeMutableBufferPointer { out in
                source.dequantizeRow(file.data(of: tensor).baseAddress!, into: out.baseAddress!, count: tensor.elementCount)
            }
            writer.addTensor(tensor.name, dimensions: tensor.dimensions, type: target,
                             data: try encode(values, columns: columns, as: target))
        }
        return writer
    }
}
