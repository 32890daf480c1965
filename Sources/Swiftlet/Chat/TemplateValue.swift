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

/// A dictionary with string keys that keeps insertion order, as Python's `dict` does.
public struct TemplateDictionary: Sendable {
    /// The keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    /// An empty dictionary.
    public init() {}

    /// A dictionary of `pairs` in their order (a repeated key keeps its first place, last value).
    public init(_ pairs: [(String, TemplateValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The value for `key`, or nil.
    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Number of entries.
    public var count: Int { keys.count }

    /// The entries in order.
    public var pairs: [(String, TemplateValue)] { keys.map { ($0, storage[$0]!) } }

    /// The values in key order.
    public var values: [TemplateValue] { keys.map { storage[$0]! } }
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
        case .namespace, .loop: return false
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
