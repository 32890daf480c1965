import Foundation

/// Writes GGUF v3 files: the project's test fixtures and the random-weight benchmark models.
/// Tensors are given as raw bytes already in their ggml type's encoding.
public struct GGUFWriter {
    private var metadata: [(String, GGUFValue)] = []
    private var tensors: [(name: String, dimensions: [Int], type: GGMLType, data: [UInt8])] = []
    /// Alignment of the tensor data; a value other than 32 is recorded as `general.alignment`
    /// unless that key was added explicitly.
    public var alignment: Int = 32

    public init() {}

    /// Adds a metadata key/value (written in call order).
    public mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    /// Adds a tensor. `dimensions` are in ggml order (innermost first).
    public mutating func addTensor(_ name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) {
        tensors.append((name, dimensions, type, data))
    }

    /// Adds an F32 tensor from floats.
    public mutating func addTensor(_ name: String, dimensions: [Int], floats: [Float]) {
        var bytes = [UInt8](repeating: 0, count: floats.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, f) in floats.enumerated() { raw.storeBytes(of: f.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        addTensor(name, dimensions: dimensions, type: .f32, data: bytes)
    }

    /// The complete file.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        func putString(_ s: String) {
            let utf8 = Array(s.utf8)
            put(UInt64(utf8.count))
            out.append(contentsOf: utf8)
        }
        func putValue(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): put(x)
            case .int8(let x): put(x)
            case .uint16(let x): put(x)
            case .int16(let x): put(x)
            case .uint32(let x): put(x)
            case .int32(let x): put(x)
            case .float32(let x): put(x.bitPattern)
            case .bool(let x): put(UInt8(x ? 1 : 0))
            case .string(let s): putString(s)
            case .array(let items):
                put(items.elementTypeCode)
                put(UInt64(items.count))
                if let bytes = items.uint8Elements {
                    out.append(contentsOf: bytes)
                } else {
                    items.forEach(putValue)
                }
            case .uint64(let x): put(x)
            case .int64(let x): put(x)
            case .float64(let x): put(x.bitPattern)
            }
        }
        func pad() {
            while out.count % alignment != 0 { out.append(0) }
        }

        // Readers assume 32 unless the file says otherwise.
        var metadata = self.metadata
        if alignment != 32 && !metadata.contains(where: { $0.0 == "general.alignment" }) {
            metadata.append(("general.alignment", .uint32(UInt32(alignment))))
        }

        put(UInt32(0x4655_4747))
        put(UInt32(3))
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, value) in metadata {
            putString(key)
            put(value.typeCode)
            putValue(value)
        }
        var offset = 0
        for t in tensors {
            putString(t.name)
            put(UInt32(t.dimensions.count))
            t.dimensions.forEach { put(UInt64($0)) }
            put(t.type.rawValue)
            put(UInt64(offset))
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        pad()
        for t in tensors {
            out.append(contentsOf: t.data)
            pad()
        }
        return out
    }

    /// Writes the file to `path`.
    public func write(to path: String) throws {
        let bytes = serialized()
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw ModelFileError.io("cannot write '\(path)'")
        }
    }
}
