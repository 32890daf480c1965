/// One metadata value of a GGUF file (the spec's `gguf_metadata_value_t`). Arrays are
/// stored compactly (`GGUFArray`: one typed Swift array, not one value per element).
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
    case array(GGUFArray)
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

    /// The string, when the value is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The bool, when the value is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// An array of `values` (values of one scalar type are stored typed).
    public static func array(_ values: [GGUFValue]) -> GGUFValue {
        .array(GGUFArray(values))
    }

    /// The elements as values, when the value is an array (one `GGUFValue` per element:
    /// prefer `arrayElements` for large arrays).
    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return Array(a) }
        return nil
    }

    /// The array, in its compact storage, when the value is one.
    public var arrayElements: GGUFArray? {
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

    /// A string value; nil when absent, throws when mistyped.
    public func string(_ key: String) throws -> String? {
        guard let value = values[key] else { return nil }
        guard let string = value.stringValue else { throw wrongType(key, "a string") }
        return string
    }

    /// A bool value; nil when absent, throws when mistyped.
    public func bool(_ key: String) throws -> Bool? {
        guard let value = values[key] else { return nil }
        guard let bool = value.boolValue else { throw wrongType(key, "a bool") }
        return bool
    }

    /// An array of strings; nil when absent, throws when mistyped.
    public func stringArray(_ key: String) throws -> [String]? {
        guard let value = values[key] else { return nil }
        guard let strings = value.arrayElements?.stringElements else { throw wrongType(key, "an array of strings") }
        return strings
    }

    /// An array of numbers (floats or integers); nil when absent, throws when mistyped.
    public func doubleArray(_ key: String) throws -> [Double]? {
        guard let value = values[key] else { return nil }
        guard let doubles = value.arrayElements?.doubleElements else { throw wrongType(key, "an array of numbers") }
        return doubles
    }

    /// An array of integers; nil when absent, throws when mistyped.
    public func intArray(_ key: String) throws -> [Int]? {
        guard let value = values[key] else { return nil }
        guard let ints = value.arrayElements?.intElements else { throw wrongType(key, "an array of integers") }
        return ints
    }
}
