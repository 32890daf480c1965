/// A GGUF metadata array, stored compactly: one typed Swift array per element type (a
/// uint8 array of n elements takes n bytes, not one boxed `GGUFValue` per element).
/// It is a random-access collection of `GGUFValue`, so code that iterates, counts, maps or
/// subscripts an array keeps working; typed views (`uint8Elements`, `stringElements`, ...)
/// give the storage without a copy.
public struct GGUFArray: Sendable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// The elements, by their GGUF type.
    public enum Storage: Sendable, Equatable {
        case uint8([UInt8])
        case int8([Int8])
        case uint16([UInt16])
        case int16([Int16])
        case uint32([UInt32])
        case int32([Int32])
        case float32([Float])
        case bool([Bool])
        case string([String])
        case array([GGUFArray])
        case uint64([UInt64])
        case int64([Int64])
        case float64([Double])
        /// Values of any types, as built in code (`[.int8(1), .string("a")]`).
        case mixed([GGUFValue])
    }

    /// The elements.
    public let storage: Storage

    /// An array over `storage`.
    public init(storage: Storage) {
        self.storage = storage
    }

    /// An array of `values` (kept as given; values of one scalar type are stored typed).
    public init(_ values: [GGUFValue]) {
        storage = Self.compacted(values) ?? .mixed(values)
    }

    /// An array of the literal's values (`[.int32(1), .int32(2)]`).
    public init(arrayLiteral elements: GGUFValue...) {
        self.init(elements)
    }

    /// Always 0.
    public var startIndex: Int { 0 }

    /// The number of elements.
    public var endIndex: Int {
        switch storage {
        case .uint8(let a): return a.count
        case .int8(let a): return a.count
        case .uint16(let a): return a.count
        case .int16(let a): return a.count
        case .uint32(let a): return a.count
        case .int32(let a): return a.count
        case .float32(let a): return a.count
        case .bool(let a): return a.count
        case .string(let a): return a.count
        case .array(let a): return a.count
        case .uint64(let a): return a.count
        case .int64(let a): return a.count
        case .float64(let a): return a.count
        case .mixed(let a): return a.count
        }
    }

    /// Element `index` as a value.
    public subscript(index: Int) -> GGUFValue {
        switch storage {
        case .uint8(let a): return .uint8(a[index])
        case .int8(let a): return .int8(a[index])
        case .uint16(let a): return .uint16(a[index])
        case .int16(let a): return .int16(a[index])
        case .uint32(let a): return .uint32(a[index])
        case .int32(let a): return .int32(a[index])
        case .float32(let a): return .float32(a[index])
        case .bool(let a): return .bool(a[index])
        case .string(let a): return .string(a[index])
        case .array(let a): return .array(a[index])
        case .uint64(let a): return .uint64(a[index])
        case .int64(let a): return .int64(a[index])
        case .float64(let a): return .float64(a[index])
        case .mixed(let a): return a[index]
        }
    }

    /// The GGUF type code of the elements (`gguf_metadata_value_type`); for an empty array
    /// built in code, uint32 (4).
    public var elementTypeCode: UInt32 {
        switch storage {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        case .mixed(let a): return a.first?.typeCode ?? 4
        }
    }

    /// The bytes as stored, when the elements are uint8.
    public var uint8Elements: [UInt8]? {
        if case .uint8(let a) = storage { return a }
        return nil
    }

    /// The strings, when every element is a string (no copy when stored as strings).
    public var stringElements: [String]? {
        if case .string(let a) = storage { return a }
        var result: [String] = []
        result.reserveCapacity(count)
        for value in self {
            guard case .string(let s) = value else { return nil }
            result.append(s)
        }
        return result
    }

    /// Every element as an `Int`, when each is an integer that fits.
    public var intElements: [Int]? {
        switch storage {
        case .uint8(let a): return a.map(Int.init)
        case .int8(let a): return a.map(Int.init)
        case .uint16(let a): return a.map(Int.init)
        case .int16(let a): return a.map(Int.init)
        case .uint32(let a): return a.map(Int.init)
        case .int32(let a): return a.map(Int.init)
        case .int64(let a): return a.map(Int.init)
        default:
            var result: [Int] = []
            result.reserveCapacity(count)
            for value in self {
                guard let i = value.intValue else { return nil }
                result.append(i)
            }
            return result
        }
    }

    /// Every element as a `Double`, when each is a number.
    public var doubleElements: [Double]? {
        switch storage {
        case .float32(let a): return a.map(Double.init)
        case .float64(let a): return a
        default:
            var result: [Double] = []
            result.reserveCapacity(count)
            for value in self {
                guard let d = value.doubleValue else { return nil }
                result.append(d)
            }
            return result
        }
    }

    /// Typed storage for values that all have one scalar type, or nil.
    private static func compacted(_ values: [GGUFValue]) -> Storage? {
        guard let first = values.first else { return nil }
        func all<T>(_ extract: (GGUFValue) -> T?) -> [T]? {
            var result: [T] = []
            result.reserveCapacity(values.count)
            for value in values {
                guard let x = extract(value) else { return nil }
                result.append(x)
            }
            return result
        }
        switch first {
        case .uint8:
            return all { (v: GGUFValue) -> UInt8? in if case .uint8(let x) = v { return x }; return nil }.map(Storage.uint8)
        case .int32:
            return all { (v: GGUFValue) -> Int32? in if case .int32(let x) = v { return x }; return nil }.map(Storage.int32)
        case .float32:
            return all { (v: GGUFValue) -> Float? in if case .float32(let x) = v { return x }; return nil }.map(Storage.float32)
        case .string:
            return all { (v: GGUFValue) -> String? in if case .string(let x) = v { return x }; return nil }.map(Storage.string)
        default:
            return nil
        }
    }
}

extension GGUFArray: Equatable {
    /// Arrays are equal when their elements are, however each is stored.
    public static func == (a: GGUFArray, b: GGUFArray) -> Bool {
        if a.storage == b.storage { return true }
        guard a.count == b.count else { return false }
        return a.elementsEqual(b)
    }
}
