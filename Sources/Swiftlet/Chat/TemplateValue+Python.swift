/// Python semantics of template values: truth, `str()`, `repr()`, `==`, ordering.
extension TemplateValue {
    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }
    var isNone: Bool { if case .none = self { return true } else { return false } }

    /// Python's `bool(x)`; undefined is falsy.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .dictionary(let d): return d.count > 0
        case .object: return true
        }
    }

    /// Python's type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .dictionary: return "dict"
        case .object(let o):
            switch o.kind {
            case .namespace: return "Namespace"
            case .macro: return "Macro"
            case .loop: return "LoopContext"
            case .generator: return "generator"
            case .cycler: return "Cycler"
            case .builtin, .boundMethod: return "function"
            }
        }
    }

    /// Python's `str(x)` (what `{{ x }}` prints); undefined prints as "".
    var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pythonRepr
        }
    }

    /// Python's `repr(x)`.
    var pythonRepr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return TemplateValue.formatDouble(d)
        case .string(let s): return TemplateValue.reprString(s)
        case .array(let a): return "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .dictionary(let d):
            return "{" + d.entries.map { $0.key.pythonRepr + ": " + $0.value.pythonRepr }.joined(separator: ", ") + "}"
        case .object(let o):
            switch o.kind {
            case .namespace: return "<Namespace \(o.attributes.pairs.map { "\($0.0)=\($0.1.pythonRepr)" }.joined(separator: ", "))>"
            case .macro(let m, _): return "<Macro '\(m.name)'>"
            default: return "<\(typeName)>"
            }
        }
    }

    /// Python's float repr: shortest round-trip digits, ".0" for integral values, "e+XX"
    /// exponents outside [1e-4, 1e16) (Swift's description agrees on all of these).
    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return "\(d)"
    }

    /// Python's repr of a string: single quotes unless the text has one and no double quote.
    static func reprString(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote { out += "\\" + String(quote) }
                else if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\x" + hex(scalar.value, 2) }
                else { out.unicodeScalars.append(scalar) }
            }
        }
        out.append(quote)
        return out
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The number as a Double, for mixed arithmetic (bools count as 0/1, as in Python).
    var numericValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// The integer, when the value is an int or a bool.
    var integerValue: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python's `==`.
    func pythonEquals(_ other: TemplateValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case (.dictionary(let a), .dictionary(let b)):
            return a.count == b.count && a.entries.allSatisfy { entry in b[entry.key].map { entry.value.pythonEquals($0) } ?? false }
        case (.object(let a), .object(let b)): return a === b
        default:
            if let x = integerValue, let y = other.integerValue { return x == y }
            if let x = numericValue, let y = other.numericValue { return x == y }
            return false
        }
    }

    /// Python's ordering (`<`) for numbers, strings (by code point) and lists; nil when unorderable.
    func pythonLess(_ other: TemplateValue) -> Bool? {
        switch (self, other) {
        case (.string(let a), .string(let b)): return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where !x.pythonEquals(y) { return x.pythonLess(y) }
            return a.count < b.count
        default:
            if let x = integerValue, let y = other.integerValue { return x < y }
            if let x = numericValue, let y = other.numericValue { return x < y }
            return nil
        }
    }

    /// Python's `iter(x)` as an array: list items, string characters, dict keys; undefined is empty.
    func iterated() throws -> [TemplateValue] {
        switch self {
        case .undefined: return []
        case .array(let a): return a
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .dictionary(let d): return d.keys
        case .object(let o):
            if case .generator(let items) = o.kind { return items }
            throw TemplateFailure(.type, "'\(typeName)' object is not iterable")
        default: throw TemplateFailure(.type, "'\(typeName)' object is not iterable")
        }
    }

    /// Python's `len(x)`.
    func length() throws -> Int {
        switch self {
        case .undefined: return 0
        case .array(let a): return a.count
        case .string(let s): return s.unicodeScalars.count
        case .dictionary(let d): return d.count
        default: throw TemplateFailure(.type, "object of type '\(typeName)' has no len()")
        }
    }
}

