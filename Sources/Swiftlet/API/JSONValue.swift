import Foundation

/// Any JSON value, decoded without a schema so that a request's type errors can name the
/// field and the type it had (a `Decodable` struct would only say "data corrupted").
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([JSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let number): try container.encode(number)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let fields): try container.encode(fields)
        }
    }

    /// Parses a request body (`what` names it in the error).
    /// - Throws: `APIError` (400) when the bytes are not JSON.
    public static func parse(_ data: Data, what: String = "the request body") throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw APIError.badRequest("\(what) is not valid JSON")
        }
    }

    /// The value as an integer, when it is one (a number without a fraction counts).
    public var integerValue: Int64? {
        switch self {
        case .integer(let number): return number
        case .number(let number): return Int64(exactly: number)
        default: return nil
        }
    }

    /// The JSON type's name, for messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// Typed access to the fields of a JSON object (request bodies, batch lines); a present field
/// of the wrong type fails with a 400 naming the field. Missing and `null` fields read as nil.
public struct FieldReader {
    public let fields: [String: JSONValue]
    /// Prefix for nested fields in messages ("stream_options.").
    public var path = ""

    public init(_ value: JSONValue, path: String = "") throws {
        guard case .object(let fields) = value else {
            throw APIError.badRequest("\(path.isEmpty ? "the request body" : String(path.dropLast())) must be a JSON object, not \(value.typeName)")
        }
        self.fields = fields
        self.path = path
    }

    public func mismatch(_ name: String, _ expected: String, _ value: JSONValue) -> APIError {
        APIError.badRequest("\(path)\(name) must be \(expected), not \(value.typeName)", parameter: path + name)
    }

    /// The field, or nil when it is missing or null.
    public func value(_ name: String) -> JSONValue? {
        guard let value = fields[name], value != .null else { return nil }
        return value
    }

    public func string(_ name: String) throws -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw mismatch(name, "a string", value) }
        return text
    }

    public func integer(_ name: String) throws -> Int64? {
        guard let value = value(name) else { return nil }
        guard let number = value.integerValue else { throw mismatch(name, "an integer", value) }
        return number
    }

    public func number(_ name: String) throws -> Double? {
        guard let value = value(name) else { return nil }
        switch value {
        case .integer(let number): return Double(number)
        case .number(let number): return number
        default: throw mismatch(name, "a number", value)
        }
    }

    public func bool(_ name: String) throws -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw mismatch(name, "a boolean", value) }
        return flag
    }

    public func object(_ name: String) throws -> FieldReader? {
        guard let value = value(name) else { return nil }
        guard case .object = value else { throw mismatch(name, "an object", value) }
        return try FieldReader(value, path: path + name + ".")
    }

    /// An array of integers (token ids).
    public func integers(_ name: String) throws -> [Int64]? {
        guard let value = value(name) else { return nil }
        guard case .array(let items) = value else { throw mismatch(name, "an array of integers", value) }
        return try items.map { item in
            guard let number = item.integerValue else { throw mismatch("every item of \(name)", "an integer", item) }
            return number
        }
    }

    /// A string or an array of strings (OpenAI's `stop`).
    public func strings(_ name: String) throws -> [String]? {
        guard let value = value(name) else { return nil }
        switch value {
        case .string(let text): return [text]
        case .array(let items):
            return try items.map { item in
                guard case .string(let text) = item else { throw mismatch(name, "a string or an array of strings", item) }
                return text
            }
        default: throw mismatch(name, "a string or an array of strings", value)
        }
    }
}
