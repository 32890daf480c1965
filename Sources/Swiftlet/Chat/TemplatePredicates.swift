/// Jinja's tests (`x is defined`, `x is string`, `x is equalto 'y'`, ...).
extension TemplateInterpreter {
    func applyTest(_ name: String, _ value: TemplateValue, _ arguments: [TemplateValue]) throws -> Bool {
        func other() throws -> TemplateValue {
            guard let first = arguments.first else { throw TemplateFailure(.type, "test '\(name)' needs an argument") }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value.isNone
        case "string": if case .string = value { return true } else { return false }
        case "number":
            switch value { case .int, .double, .bool: return true; default: return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "mapping": if case .dictionary = value { return true } else { return false }
        case "iterable":
            switch value {
            case .string, .array, .dictionary, .undefined: return true
            case .object(let o): if case .generator = o.kind { return true } else { return false }
            default: return false
            }
        case "sequence":
            switch value { case .string, .array, .dictionary: return true; default: return false }
        case "callable":
            if case .object(let o) = value { return o.isCallable } else { return false }
        case "eq", "equalto", "==": return value.pythonEquals(try other())
        case "ne", "!=": return !value.pythonEquals(try other())
        case "lt", "lessthan", "<": return try compare("<", value, try other())
        case "le", "<=": return try compare("<=", value, try other())
        case "gt", "greaterthan", ">": return try compare(">", value, try other())
        case "ge", ">=": return try compare(">=", value, try other())
        case "in": return try contains(try other(), value)
        case "sameas":
            let o = try other()
            switch (value, o) {
            case (.object(let a), .object(let b)): return a === b
            case (.none, .none), (.undefined, .undefined): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b
            default: return false
            }
        case "odd", "even", "divisibleby":
            guard let i = value.integerValue else { throw TemplateFailure(.type, "test '\(name)' needs an integer") }
            if name == "odd" { return i % 2 != 0 }
            if name == "even" { return i % 2 == 0 }
            guard let d = try other().integerValue, d != 0 else { throw TemplateFailure(.type, "divisibleby needs a non-zero integer") }
            return i % d == 0
        case "lower": return value.pythonString == value.pythonString.lowercased()
        case "upper": return value.pythonString == value.pythonString.uppercased()
        case "escaped": return false
        case "filter":
            if case .string(let n) = try other() { return Self.filterNames.contains(n) }
            return false
        case "test":
            if case .string(let n) = try other() { return Self.testNames.contains(n) }
            return false
        default:
            throw TemplateFailure(.type, "no test named '\(name)'")
        }
    }

    static let testNames: Set<String> = ["defined", "undefined", "none", "string", "number", "integer", "float",
        "boolean", "true", "false", "mapping", "iterable", "sequence", "callable", "eq", "equalto", "==", "ne", "!=",
        "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas", "odd", "even",
        "divisibleby", "lower", "upper", "escaped", "filter", "test"]
}
