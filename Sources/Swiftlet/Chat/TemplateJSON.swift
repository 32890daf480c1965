/// `tojson` as HuggingFace defines it: Python's `json.dumps(x, ensure_ascii=False,
/// indent=None, separators=None, sort_keys=False)` (no HTML escaping, keys in order).
struct TemplateJSON {
    var indent: String? = nil
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false
    var ensureASCII = false

    init(indent: String?, separators: (String, String)?, sortKeys: Bool, ensureASCII: Bool) {
        self.indent = indent
        if let separators {
            (itemSeparator, keySeparator) = separators
        } else if indent != nil {
            itemSeparator = ","
        }
        self.sortKeys = sortKeys
        self.ensureASCII = ensureASCII
    }

    func encode(_ value: TemplateValue) throws -> String {
        var out = ""
        try encode(value, into: &out, level: 0)
        return out
    }

    private func newline(_ out: inout String, _ level: Int) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    private func encode(_ value: TemplateValue, into out: inout String, level: Int) throws {
        if level > 512 { throw TemplateFailure(.limit, "tojson: value nested too deeply") }
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += TemplateValue.formatDouble(d) }
        case .string(let s): encodeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(&out, level + 1)
                try encode(item, into: &out, level: level + 1)
            }
            newline(&out, level)
            out += "]"
        case .dictionary(let d):
            if d.count == 0 { out += "{}"; return }
            out += "{"
            let named = try d.entries.map { (try jsonKey($0.key), $0.value) }
            let pairs = sortKeys ? named.sorted { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } : named
            for (i, (key, item)) in pairs.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(&out, level + 1)
                encodeString(key, into: &out)
                out += keySeparator
                try encode(item, into: &out, level: level + 1)
            }
            newline(&out, level)
            out += "}"
        case .undefined, .object:
            throw TemplateFailure(.type, "Object of type \(value.typeName) is not JSON serializable")
        }
    }

    /// json.dumps turns non-string keys into strings ("1", "true", "null", "1.5").
    private func jsonKey(_ key: TemplateValue) throws -> String {
        switch key {
        case .string(let s): return s
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int, .double: return try encode(key)
        default: throw TemplateFailure(.type, "keys must be str, int, float, bool or None, not \(key.typeName)")
        }
    }

    private func encodeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7f) {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += "\\u" + TemplateValue.hex(0xD800 + (v >> 10), 4) + "\\u" + TemplateValue.hex(0xDC00 + (v & 0x3FF), 4)
                    } else {
                        out += "\\u" + TemplateValue.hex(scalar.value, 4)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
