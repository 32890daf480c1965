/// Reads JSON into template values, keeping the order of object keys (tool schemas and
/// arguments print in the order the client sent them, as Python's json module keeps it).
struct TemplateJSONParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var depth = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    static func parse(_ text: String) throws -> TemplateValue {
        var parser = TemplateJSONParser(text)
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == parser.scalars.count else { throw parser.failure("trailing characters") }
        return value
    }

    private func failure(_ message: String) -> TemplateFailure {
        TemplateFailure(.type, "invalid JSON at offset \(index): \(message)")
    }

    private mutating func skipSpace() {
        while index < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[index]) { index += 1 }
    }

    private mutating func literal(_ word: String, _ value: TemplateValue) throws -> TemplateValue {
        let w = Array(word.unicodeScalars)
        guard index + w.count <= scalars.count, Array(scalars[index..<(index + w.count)]) == w else { throw failure("unexpected token") }
        index += w.count
        return value
    }

    private mutating func value() throws -> TemplateValue {
        skipSpace()
        guard index < scalars.count else { throw failure("unexpected end") }
        depth += 1
        defer { depth -= 1 }
        if depth > 512 { throw failure("nested too deeply") }
        switch scalars[index] {
        case "{":
            index += 1
            var dictionary = TemplateDictionary()
            skipSpace()
            if index < scalars.count, scalars[index] == "}" { index += 1; return .dictionary(dictionary) }
            while true {
                skipSpace()
                guard index < scalars.count, scalars[index] == "\"" else { throw failure("expected a key") }
                let key = try string()
                skipSpace()
                guard index < scalars.count, scalars[index] == ":" else { throw failure("expected ':'") }
                index += 1
                dictionary[key] = try value()
                skipSpace()
                guard index < scalars.count else { throw failure("unexpected end") }
                if scalars[index] == "," { index += 1; continue }
                if scalars[index] == "}" { index += 1; return .dictionary(dictionary) }
                throw failure("expected ',' or '}'")
            }
        case "[":
            index += 1
            var items: [TemplateValue] = []
            skipSpace()
            if index < scalars.count, scalars[index] == "]" { index += 1; return .array(items) }
            while true {
                items.append(try value())
                skipSpace()
                guard index < scalars.count else { throw failure("unexpected end") }
                if scalars[index] == "," { index += 1; continue }
                if scalars[index] == "]" { index += 1; return .array(items) }
                throw failure("expected ',' or ']'")
            }
        case "\"": return .string(try string())
        case "t": return try literal("true", .bool(true))
        case "f": return try literal("false", .bool(false))
        case "n": return try literal("null", .none)
        default: return try number()
        }
    }

    private mutating func number() throws -> TemplateValue {
        let start = index
        var isInteger = true
        while index < scalars.count, "+-0123456789.eE".unicodeScalars.contains(scalars[index]) {
            if ".eE".unicodeScalars.contains(scalars[index]) { isInteger = false }
            index += 1
        }
        let text = String(String.UnicodeScalarView(scalars[start..<index]))
        if isInteger, let i = Int(text) { return .int(i) }
        guard let d = Double(text), !text.isEmpty else { throw failure("bad number '\(text)'") }
        return .double(d)
    }

    private mutating func string() throws -> String {
        index += 1
        var out = String.UnicodeScalarView()
        while true {
            guard index < scalars.count else { throw failure("unterminated string") }
            let c = scalars[index]
            index += 1
            if c == "\"" { return String(out) }
            if c != "\\" { out.append(c); continue }
            guard index < scalars.count else { throw failure("unterminated string") }
            let e = scalars[index]
            index += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "/", "\\", "\"": out.append(e)
            case "u":
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), index + 1 < scalars.count, scalars[index] == "\\", scalars[index + 1] == "u" {
                    index += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) { code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) }
                }
                out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: throw failure("bad escape")
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= scalars.count,
              let v = UInt32(String(String.UnicodeScalarView(scalars[index..<(index + 4)])), radix: 16) else { throw failure("bad \\u escape") }
        index += 4
        return v
    }
}

extension TemplateValue {
    /// Parses JSON text (e.g. an OpenAI request's `messages` or `tools`), keeping object key order.
    public init(json: String) throws {
        do {
            self = try TemplateJSONParser.parse(json)
        } catch let failure as TemplateFailure {
            throw ChatTemplateError(failure.kind, failure.message, line: 0)
        }
    }
}
