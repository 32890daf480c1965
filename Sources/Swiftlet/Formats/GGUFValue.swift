/// One metadata value of a GGUF file (the spec's `gguf_metadata_value_t`).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The value as an `Int` when it is any integer type that fits.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// The value as a `Double` when it is any float or integer type.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The spec's type code for this value (`gguf_metadata_value_type`).
    public var typeCode: UInt32 {
        switch self {
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
        }
    }
}

/// Typed, erroring accessors over a GGUF metadata dictionary.
public struct GGUFMetadata: Sendable {
    /// Every key/value of the file.
    public let values: [String: GGUFValue]
    /// Keys in file order.
    public let keys: [String]

    public init(values: [String: GGUFValue], keys: [String]) {
        self.values = values
        self.keys = keys
    }

    public subscript(key: String) -> GGUFValue? { values[key] }

    private func wrongType(_ key: String, _ expected: String) -> ModelFileError {
        .malformed("metadata key '\(key)' has the wrong type: expected \(expected)")
    }

    /// An integer value (any GGUF integer type); nil when absent, throws when mistyped.
    public func int(_ key: String) throws -> Int? {
        guard let value = values[key] else { return nil }
        guard let int = value.intValue else { throw wrongType(key, "an integer") }
        return int
    }

    /// A float value (float32/float64 or integer); nil when absent, throws when mistyped.
    public func double(_ key: String) throws -> Double? {
        guard let value = values[key] else { return nil }
        guard let double = value.doubleValue else { throw wrongType(key, "a number") }
        return double
    }

    public func string(_ key: String) throws -> String? {
        guard let value = values[key] else { return nil }
        guard let string = value.stringValue else { throw wrongType(key, "a string") }
        return string
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = values[key] else { return nil }
        guard let bool = value.boolValue else { throw wrongType(key, "a bool") }
        return bool
    }

    public func stringArray(_ key: String) throws -> [String]? {
        guard let value = values[key] else { return nil }
        guard let array = value.arrayValue else { throw wrongType(key, "an array of strings") }
        return try array.map {
            guard let s = $0.stringValue else { throw wrongType(key, "an array of strings") }
            return s
        }
    }

    public func doubleArray(_ key: String) throws -> [Double]? {
        guard let value = values[key] else { return nil }
        guard let array = value.arrayValue else { throw wrongType(key, "an array of numbers") }
        return try array.map {
            guard let d = $0.doubleValue else { throw wrongType(key, "an array of numbers") }
            return d
        }
    }

    public func intArray(_ key: String) throws -> [Int]? {
        guard let value = values[key] else { return nil }
        guard let array = value.arrayValue else { throw wrongType(key, "an array of integers") }
        return try array.map {
            guard let i = $0.intValue else { throw wrongType(key, "an array of integers") }
            return i
        }
    }
}
