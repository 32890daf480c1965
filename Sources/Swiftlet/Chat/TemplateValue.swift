/// A value inside a chat template, with Python's (and so Jinja's) semantics for truth,
/// equality, printing and arithmetic.
public enum TemplateValue: Sendable {
    /// A missing variable, key or attribute: prints as "", is falsy, iterates as empty.
    case undefined
    /// Python's `None` (`none` / `None` in a template).
    case none
    /// `true` / `false`.
    case bool(Bool)
    /// An integer.
    case int(Int)
    /// A floating-point number.
    case double(Double)
    /// A string (indexed and measured by Unicode scalars, as Python does).
    case string(String)
    /// A list (Python lists and tuples).
    case array([TemplateValue])
    /// A dictionary that keeps insertion order.
    case dictionary(TemplateDictionary)
    /// Namespaces, macros, loop objects and built-in functions (opaque to callers).
    case object(TemplateObject)
}

/// A dictionary that keeps insertion order, as Python's `dict` does. Keys are usually
/// strings; numbers, booleans and `none` work too (`1`, `1.0` and `true` are one key, as in Python).
public struct TemplateDictionary: Sendable {
    /// The entries in insertion order.
    public private(set) var entries: [(key: TemplateValue, value: TemplateValue)] = []
    private var positions: [Key: Int] = [:]

    /// Python's hash equality of keys.
    enum Key: Hashable {
        case string(String)
        case int(Int)
        case double(Double)
        case none
        case other(String)

        init(_ value: TemplateValue) {
            switch value {
            case .string(let s): self = .string(s)
            case .int(let i): self = .int(i)
            case .bool(let b): self = .int(b ? 1 : 0)
            case .double(let d): self = (d.rounded() == d && abs(d) < 9e18) ? .int(Int(d)) : .double(d)
            case .none: self = .none
            default: self = .other(value.pythonRepr)
            }
        }
    }

    /// An empty dictionary.
    public init() {}

    /// A dictionary of `pairs` in their order (a repeated key keeps its first place, last value).
    public init(_ pairs: [(String, TemplateValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The value for a string key, or nil.
    public subscript(key: String) -> TemplateValue? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }

    /// The value for any key, or nil.
    public subscript(key: TemplateValue) -> TemplateValue? {
        get { positions[Key(key)].map { entries[$0].value } }
        set {
            let k = Key(key)
            if let newValue {
                if let position = positions[k] { entries[position].value = newValue }
                else {
                    positions[k] = entries.count
                    entries.append((key, newValue))
                }
            } else if let position = positions.removeValue(forKey: k) {
                entries.remove(at: position)
                for (i, entry) in entries.enumerated() where i >= position { positions[Key(entry.key)] = i }
            }
        }
    }

    /// Number of entries.
    public var count: Int { entries.count }

    /// The keys in order.
    public var keys: [TemplateValue] { entries.map(\.key) }

    /// The entries in order with their keys as strings (`str(key)`).
    public var pairs: [(String, TemplateValue)] { entries.map { ($0.key.pythonString, $0.value) } }

    /// The values in key order.
    public var values: [TemplateValue] { entries.map(\.value) }
}

/// A reference-typed template value: a `namespace()`, a macro, a loop object or a built-in.
public final class TemplateObject: @unchecked Sendable {
    enum Kind {
        case namespace
        case macro(MacroDefinition, Scope)
        case builtin(String)
        case boundMethod(TemplateValue, String)
        case loop
        case cycler([TemplateValue])
        /// What Jinja's `map`, `select`, `selectattr`, `unique`, ... return: iterable, but with
        /// no length, no index and not JSON-serializable.
        case generator([TemplateValue])
    }

    let kind: Kind
    /// Attributes (namespace fields, loop fields). Mutated only by the rendering thread.
    var attributes: TemplateDictionary

    init(_ kind: Kind, attributes: TemplateDictionary = TemplateDictionary()) {
        self.kind = kind
        self.attributes = attributes
    }

    var isCallable: Bool {
        switch kind {
        case .macro, .builtin, .boundMethod, .cycler: return true
        case .namespace, .loop, .generator: return false
        }
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .dictionary(TemplateDictionary(elements)) }
    public init(nilLiteral: ()) { self = .none }
}

extension TemplateValue: Equatable {
    /// Python's `==` (1 == 1.0 == True; lists and dictionaries compare by content).
    public static func == (lhs: TemplateValue, rhs: TemplateValue) -> Bool { lhs.pythonEquals(rhs) }
}

extension TemplateValue {
    /// Builds a value from JSON-like Foundation-free Swift values: String, Bool, Int, Double,
    /// arrays, `[String: Any]` (keys sorted, since Swift dictionaries have no order) and
    /// `[(String, Any)]` (order kept); anything else becomes `none`.
    public init(any value: Any?) {
        switch value {
        case nil: self = .none
        case let v as TemplateValue: self = v
        case let v as String: self = .string(v)
        case let v as Bool: self = .bool(v)
        case let v as Int: self = .int(v)
        case let v as Double: self = .double(v)
        case let v as [Any?]: self = .array(v.map { TemplateValue(any: $0) })
        case let v as [(String, Any?)]: self = .dictionary(TemplateDictionary(v.map { ($0.0, TemplateValue(any: $0.1)) }))
        case let v as [String: Any?]:
            self = .dictionary(TemplateDictionary(v.keys.sorted().map { ($0, TemplateValue(any: v[$0]!)) }))
        default: self = .none
        }
    }
}
