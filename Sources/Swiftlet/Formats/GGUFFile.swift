/// Where one tensor lives in a GGUF file and what it holds.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: `dimensions[0]` is the contiguous (innermost) one. A row-major
    /// `[out x in]` weight has `dimensions == [in, out]`.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Byte offset from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A parsed GGUF file (v2 or v3) over a memory map. Parsing validates everything a hostile
/// file could abuse: counts and lengths against the bytes left, overflow-safe sizes,
/// alignment, tensor bounds, duplicate names and value types.
public final class GGUFFile: @unchecked Sendable {
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Byte offset of the tensor data section.
    public let dataOffset: Int
    public let file: MappedFile
    private let tensorIndex: [String: Int]

    /// Limits that keep a hostile file from making the reader allocate or loop without end.
    public enum Limits {
        public static let maxStringBytes = 1 << 26
        public static let maxArrayDepth = 3
        public static let maxDimensions = 4
        public static let maxKeyBytes = 1 << 16
        /// Decoded metadata may take at most this many bytes in memory per byte of file
        /// (plus `metadataAllowance`): a metadata section cannot claim more than the file holds.
        public static let metadataBytesPerFileByte = 3
        public static let metadataAllowance = 1 << 20
    }

    /// Opens and validates the GGUF file at `path`.
    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    /// Validates the GGUF bytes of `file`.
    /// - Parameter maxMetadataBytes: the most bytes decoded metadata may take in memory;
    ///   by default `Limits.metadataBytesPerFileByte` times the file size plus
    ///   `Limits.metadataAllowance`.
    public init(file: MappedFile, maxMetadataBytes: Int? = nil) throws {
        self.file = file
        var reader = ByteReader(file.bytes)
        let fileBytes = file.bytes.count
        var budget = MetadataBudget(limit: maxMetadataBytes
            ?? fileBytes.multipliedReportingOverflow(by: Limits.metadataBytesPerFileByte).partialValue
            &+ Limits.metadataAllowance)
        let magic = try reader.read(UInt32.self)
        guard magic == 0x4655_4747 else {  // "GGUF" little-endian
            throw ModelFileError.malformed("bad magic: not a GGUF file")
        }
        version = try reader.read(UInt32.self)
        guard version == 2 || version == 3 else {
            throw ModelFileError.unsupported("GGUF version \(version) (2 and 3 are supported)")
        }
        let tensorCount = try reader.read(UInt64.self)
        let kvCount = try reader.read(UInt64.self)
        // Each key/value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info
        // at least 8 + 4 + 8 + 4 + 8. Counts beyond what the bytes can hold are lies.
        guard kvCount <= UInt64(reader.remaining / 13) else {
            throw ModelFileError.malformed("metadata count \(kvCount) is larger than the file can hold")
        }
        guard tensorCount <= UInt64(reader.remaining / 32) else {
            throw ModelFileError.malformed("tensor count \(tensorCount) is larger than the file can hold")
        }

        var values: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(Int(kvCount))
        for index in 0..<Int(kvCount) {
            reader.section = "metadata entry \(index)"
            let key = try Self.readString(&reader, limit: Limits.maxKeyBytes)
            try budget.spend(key.utf8.count + 16, in: reader)
            reader.section = "metadata '\(key)'"
            let typeCode = try reader.read(UInt32.self)
            let value = try Self.readValue(&reader, typeCode: typeCode, depth: 0, budget: &budget)
            guard values.updateValue(value, forKey: key) == nil else {
                throw ModelFileError.malformed("duplicate metadata key '\(key)'")
            }
            keys.append(key)
        }
        metadata = GGUFMetadata(values: values, keys: keys)

        var alignment = 32
        if let value = values["general.alignment"] {
            guard case .uint32(let a) = value else {
                throw ModelFileError.malformed("general.alignment must be a uint32")
            }
            guard a > 0, a & (a - 1) == 0, a <= 1 << 20 else {
                throw ModelFileError.malformed("general.alignment \(a) is not a power of two up to 1 MiB")
            }
            alignment = Int(a)
        }
        self.alignment = alignment

        struct RawTensor { let name: String; let dims: [Int]; let type: GGMLType; let offset: UInt64 }
        var raw: [RawTensor] = []
        raw.reserveCapacity(Int(tensorCount))
        var index: [String: Int] = [:]
        for i in 0..<Int(tensorCount) {
            reader.section = "tensor info \(i)"
            let name = try Self.readString(&reader, limit: Limits.maxKeyBytes)
            reader.section = "tensor info '\(name)'"
            let dimCount = try reader.read(UInt32.self)
            guard dimCount >= 1, dimCount <= UInt32(Limits.maxDimensions) else {
                throw ModelFileError.malformed("tensor '\(name)' has \(dimCount) dimensions (1 to \(Limits.maxDimensions) allowed)")
            }
            var dims: [Int] = []
            for _ in 0..<Int(dimCount) {
                let d = try reader.read(UInt64.self)
                guard d >= 1, d <= UInt64(Int32.max) else {
                    throw ModelFileError.malformed("tensor '\(name)' has dimension \(d)")
                }
                dims.append(Int(d))
            }
            let typeCode = try reader.read(UInt32.self)
            guard let type = GGMLType(rawValue: typeCode) else {
                throw ModelFileError.malformed("tensor '\(name)' has type code \(typeCode), which is no ggml tensor type")
            }
            let offset = try reader.read(UInt64.self)
            guard index.updateValue(raw.count, forKey: name) == nil else {
                throw ModelFileError.malformed("duplicate tensor name '\(name)'")
            }
            raw.append(RawTensor(name: name, dims: dims, type: type, offset: offset))
        }

        let (alignedStart, startOverflow) = reader.offset.addingReportingOverflow(alignment - 1)
        guard !startOverflow else { throw ModelFileError.malformed("tensor data offset overflows") }
        dataOffset = alignedStart & ~(alignment - 1)
        let fileSize = file.bytes.count
        if tensorCount > 0 && dataOffset > fileSize {
            throw ModelFileError.malformed("file truncated before the tensor data section")
        }

        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(raw.count)
        for t in raw {
            guard t.dims[0] % t.type.blockSize == 0 else {
                throw ModelFileError.malformed("tensor '\(t.name)' row length \(t.dims[0]) is not a multiple of the \(t.type.name) block size \(t.type.blockSize)")
            }
            var elements = 1
            for d in t.dims {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, product <= 1 << 40 else {
                    throw ModelFileError.malformed("tensor '\(t.name)' element count overflows")
                }
                elements = product
            }
            let (byteCount, bytesOverflow) = (elements / t.type.blockSize).multipliedReportingOverflow(by: t.type.blockBytes)
            guard !bytesOverflow else {
                throw ModelFileError.malformed("tensor '\(t.name)' byte count overflows")
            }
            guard t.offset % UInt64(alignment) == 0 else {
                throw ModelFileError.malformed("tensor '\(t.name)' offset \(t.offset) is not aligned to \(alignment)")
            }
            guard t.offset <= UInt64(fileSize) else {
                throw ModelFileError.malformed("tensor '\(t.name)' data lies past the end of the file")
            }
            let start = dataOffset + Int(t.offset)
            let (end, overflow) = start.addingReportingOverflow(byteCount)
            guard !overflow, end <= fileSize else {
                throw ModelFileError.malformed("tensor '\(t.name)' data (\(byteCount) bytes at \(start)) lies past the end of the file (\(fileSize) bytes)")
            }
            infos.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, fileOffset: start, byteCount: byteCount))
        }
        tensors = infos
        tensorIndex = index
    }

    /// The tensor named `name`, or nil.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The bytes of `tensor`, inside the mapping (valid while this file lives).
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[tensor.fileOffset..<(tensor.fileOffset + tensor.byteCount)])
    }

    // MARK: - Value parsing

    private static func readString(_ reader: inout ByteReader, limit: Int) throws -> String {
        let length = try reader.read(UInt64.self)
        guard length <= UInt64(limit) else {
            throw ModelFileError.malformed("string of \(length) bytes in \(reader.section) exceeds the \(limit)-byte limit")
        }
        guard length <= UInt64(reader.remaining) else {
            throw ModelFileError.malformed("file truncated in \(reader.section): string of \(length) bytes, \(reader.remaining) left")
        }
        return try reader.readString(count: Int(length))
    }

    /// Smallest encoded size of one value of a type; used to bound array lengths.
    private static func minimumSize(ofType code: UInt32) -> Int {
        switch code {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8: return 8
        case 9: return 12
        default: return 8
        }
    }

    private static func readValue(_ reader: inout ByteReader, typeCode: UInt32, depth: Int,
                                  budget: inout MetadataBudget) throws -> GGUFValue {
        switch typeCode {
        case 0: return .uint8(try reader.read(UInt8.self))
        case 1: return .int8(try reader.read(Int8.self))
        case 2: return .uint16(try reader.read(UInt16.self))
        case 3: return .int16(try reader.read(Int16.self))
        case 4: return .uint32(try reader.read(UInt32.self))
        case 5: return .int32(try reader.read(Int32.self))
        case 6: return .float32(try reader.readFloat())
        case 7:
            let byte = try reader.read(UInt8.self)
            guard byte <= 1 else { throw ModelFileError.malformed("bool value \(byte) in \(reader.section)") }
            return .bool(byte == 1)
        case 8:
            let string = try readString(&reader, limit: Limits.maxStringBytes)
            try budget.spend(MetadataBudget.cost(of: string), in: reader)
            return .string(string)
        case 9:
            return .array(try readArray(&reader, depth: depth, budget: &budget))
        case 10: return .uint64(try reader.read(UInt64.self))
        case 11: return .int64(try reader.read(Int64.self))
        case 12: return .float64(try reader.readDouble())
        default:
            throw ModelFileError.malformed("unknown metadata value type \(typeCode) in \(reader.section)")
        }
    }

    /// Reads an array's element type, count and elements into typed storage.
    private static func readArray(_ reader: inout ByteReader, depth: Int,
                                  budget: inout MetadataBudget) throws -> GGUFArray {
        guard depth < Limits.maxArrayDepth else {
            throw ModelFileError.malformed("arrays nested deeper than \(Limits.maxArrayDepth) in \(reader.section)")
        }
        let elementType = try reader.read(UInt32.self)
        guard elementType <= 12 else {
            throw ModelFileError.malformed("unknown array element type \(elementType) in \(reader.section)")
        }
        let rawCount = try reader.read(UInt64.self)
        let elementSize = minimumSize(ofType: elementType)
        guard rawCount <= UInt64(reader.remaining / elementSize) else {
            throw ModelFileError.malformed("array of \(rawCount) elements in \(reader.section) is larger than the file can hold")
        }
        let count = Int(rawCount)
        // The array itself, then each element's in-memory size (fixed-width ones up front).
        try budget.spend(32, in: reader)
        switch elementType {
        case 0: return GGUFArray(storage: .uint8(try readScalars(&reader, count, &budget)))
        case 1: return GGUFArray(storage: .int8(try readScalars(&reader, count, &budget)))
        case 2: return GGUFArray(storage: .uint16(try readScalars(&reader, count, &budget)))
        case 3: return GGUFArray(storage: .int16(try readScalars(&reader, count, &budget)))
        case 4: return GGUFArray(storage: .uint32(try readScalars(&reader, count, &budget)))
        case 5: return GGUFArray(storage: .int32(try readScalars(&reader, count, &budget)))
        case 6:
            let bits: [UInt32] = try readScalars(&reader, count, &budget)
            return GGUFArray(storage: .float32(bits.map(Float.init(bitPattern:))))
        case 7:
            let bytes: [UInt8] = try readScalars(&reader, count, &budget)
            if let bad = bytes.first(where: { $0 > 1 }) {
                throw ModelFileError.malformed("bool value \(bad) in \(reader.section)")
            }
            return GGUFArray(storage: .bool(bytes.map { $0 == 1 }))
        case 8:
            var strings: [String] = []
            strings.reserveCapacity(count)
            for _ in 0..<count {
                let string = try readString(&reader, limit: Limits.maxStringBytes)
                try budget.spend(MetadataBudget.cost(of: string), in: reader)
                strings.append(string)
            }
            return GGUFArray(storage: .string(strings))
        case 9:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(count)
            for _ in 0..<count { arrays.append(try readArray(&reader, depth: depth + 1, budget: &budget)) }
            return GGUFArray(storage: .array(arrays))
        case 10: return GGUFArray(storage: .uint64(try readScalars(&reader, count, &budget)))
        case 11: return GGUFArray(storage: .int64(try readScalars(&reader, count, &budget)))
        default:
            let bits: [UInt64] = try readScalars(&reader, count, &budget)
            return GGUFArray(storage: .float64(bits.map(Double.init(bitPattern:))))
        }
    }

    /// `count` little-endian integers, read in one pass.
    private static func readScalars<T: FixedWidthInteger>(_ reader: inout ByteReader, _ count: Int,
                                                          _ budget: inout MetadataBudget) throws -> [T] {
        let size = MemoryLayout<T>.size
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, byteCount <= reader.remaining else {
            throw ModelFileError.malformed("array of \(count) elements in \(reader.section) is larger than the file can hold")
        }
        try budget.spend(byteCount, in: reader)
        let raw = try reader.readBytes(byteCount)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                buffer[i] = T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self))
            }
            initialized = count
        }
    }
}

/// The bytes decoded metadata may still take in memory; each string, array and key spends
/// from it, so a file cannot make the reader hold more than a bounded multiple of its size.
struct MetadataBudget {
    let limit: Int
    private(set) var spent = 0

    init(limit: Int) { self.limit = limit }

    /// In-memory bytes of a decoded string: its inline part, plus its heap buffer when long.
    static func cost(of string: String) -> Int {
        let length = string.utf8.count
        return 16 + (length > 15 ? length + 32 : 0)
    }

    mutating func spend(_ bytes: Int, in reader: ByteReader) throws {
        let (total, overflow) = spent.addingReportingOverflow(bytes)
        guard !overflow, total <= limit else {
            throw ModelFileError.malformed("metadata in \(reader.section) needs more than \(limit) bytes of memory, more than a file of \(reader.bytes.count) bytes can describe")
        }
        spent = total
    }
}
