/// A GGUF file's tensors by name, as the architectures map them: shape-checked matrices
/// multiplied as stored (pointing into the mapping), F32 vectors, and row slices of fused
/// matrices (`attn_qkv`, Phi-3's gate/up).
struct TensorMap {
    let file: GGUFFile
    let storage: WeightStorage

    init(file: GGUFFile) {
        self.file = file
        storage = WeightStorage(file: file.file)
    }

    /// Whether the file holds a tensor `name`.
    func contains(_ name: String) -> Bool { file.tensor(named: name) != nil }

    private func info(_ name: String, _ shape: [Int]) throws -> GGUFTensorInfo {
        guard let info = file.tensor(named: name) else {
            throw ModelFileError.malformed("missing tensor '\(name)'")
        }
        guard info.dimensions == shape || (shape.count == 1 && info.dimensions == [shape[0], 1]) else {
            throw ModelFileError.malformed("tensor '\(name)' has shape \(info.dimensions), expected \(shape)")
        }
        return info
    }

    private func format(of info: GGUFTensorInfo) throws -> WeightFormat {
        guard let format = WeightFormat(info.type) else {
            throw ModelFileError.unsupported("tensor '\(info.name)' has type \(info.type.name), not one of \(WeightFormat.supportedNames)")
        }
        return format
    }

    /// A vector of `count` floats: the mapping itself for aligned F32, else decoded into an
    /// owned F32 buffer.
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

    /// `vector(name, count)` if the file holds `name`, else nil.
    func optionalVector(_ name: String, _ count: Int) throws -> UnsafePointer<Float>? {
        contains(name) ? try vector(name, count) : nil
    }

    /// The `(out, in)` matrix `name` (ggml lists the contiguous input dimension first).
    func matrix(_ name: String, out: Int, in inputs: Int) throws -> WeightMatrix {
        let info = try info(name, [inputs, out])
        let format = try format(of: info)
        guard format.holdsRows(of: inputs) else {
            throw ModelFileError.malformed("tensor '\(name)' rows of \(inputs) are not whole \(format) blocks")
        }
        return WeightMatrix(elements: file.data(of: info).baseAddress!, format: format, rows: out, columns: inputs)
    }

    /// A fused matrix split into consecutive row blocks of the given heights (no copy).
    func fusedMatrix(_ name: String, parts: [Int], in inputs: Int) throws -> [WeightMatrix] {
        let whole = try matrix(name, out: parts.reduce(0, +), in: inputs)
        var first = 0
        return parts.map { rows in
            defer { first += rows }
            return WeightMatrix(elements: whole.elements + first * whole.rowBytes, format: whole.format, rows: rows, columns: inputs)
        }
    }

    /// A fused vector split into consecutive parts (decoded once).
    func fusedVector(_ name: String, parts: [Int]) throws -> [UnsafePointer<Float>] {
        let whole = try vector(name, parts.reduce(0, +))
        var first = 0
        return parts.map { count in
            defer { first += count }
            return whole + first
        }
    }
}
