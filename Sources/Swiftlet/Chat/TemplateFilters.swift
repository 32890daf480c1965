/// Jinja's filters (`x | trim`, `x | tojson(indent=2)`, `xs | selectattr('role', 'equalto', 'user')`).
/// Filters that yield generators in Jinja (`map`, `select`, ...) yield lists here.
extension TemplateInterpreter {
    static let filterNames: Set<String> = ["abs", "attr", "batch", "capitalize", "center", "count", "d", "default",
        "dictsort", "e", "escape", "first", "float", "forceescape", "format", "indent", "int", "items", "join", "last",
        "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe",
        "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate",
        "unique", "upper", "wordcount", "pprint", "groupby"]

    func applyFilter(_ name: String, _ value: TemplateValue, _ arguments: [TemplateArgument]) throws -> TemplateValue {
        let (positional, keywords) = try evaluateArguments(arguments)
        return try applyFilter(name, value, positional, keywords)
    }

    func applyFilter(_ name: String, _ value: TemplateValue, _ positional: [TemplateValue],
                     _ keywords: [(String, TemplateValue)]) throws -> TemplateValue {
        let arg = { (i: Int, key: String) in self.argument(positional, keywords, i, key) }
        if value.isUndefined && ["int", "float", "indent", "dictsort"].contains(name) {
            throw TemplateFailure(.undefined, "undefined value passed to filter '\(name)'")
        }
        func flag(_ i: Int, _ key: String) -> Bool { arg(i, key)?.isTruthy ?? false }
        func text() -> String { value.pythonString }
        switch name {
        case "trim":
            let chars = arg(0, "chars")
            return .string(PythonString.strip(text(), chars.flatMap { $0.isNone ? nil : $0.pythonString }, leading: true, trailing: true))
        case "length", "count":
            return .int(try value.length())
        case "string":
            return .string(text())
        case "safe":
            return value.isUndefined ? .string("") : (value.isNone ? .string("None") : (isStringLike(value) ? value : .string(text())))
        case "escape", "e", "forceescape":
            return .string(escapeHTML(text()))
        case "upper": return .string(text().uppercased())
        case "lower": return .string(text().lowercased())
        case "capitalize": return .string(PythonString.capitalize(text()))
        case "title": return .string(jinjaTitle(text()))
        case "replace":
            guard let old = arg(0, "old"), let new = arg(1, "new") else { throw TemplateFailure(.type, "replace needs 2 arguments") }
            let count = arg(2, "count")?.integerValue ?? -1
            let result = PythonString.replace(text(), old.pythonString, new.pythonString, count: count)
            try checkSize(result.utf8.count)
            return .string(result)
        case "default", "d":
            let fallback = arg(0, "default_value") ?? .string("")
            if value.isUndefined || (flag(1, "boolean") && !value.isTruthy) { return fallback }
            return value
        case "join":
            let separator = arg(0, "d")?.pythonString ?? ""
            var items = try value.iterated()
            if let attribute = arg(1, "attribute") { items = try items.map { try lookupPath($0, attribute) } }
            let result = items.map(\.pythonString).joined(separator: separator)
            try checkSize(result.utf8.count)
            return .string(result)
        case "first":
            return try value.iterated().first ?? .undefined
        case "last":
            if case .string(let s) = value { return s.unicodeScalars.last.map { .string(String($0)) } ?? .undefined }
            if case .object(let o) = value, case .generator = o.kind { throw TemplateFailure(.type, "'generator' object is not reversible") }
            return try value.iterated().last ?? .undefined
        case "list":
            return .array(try value.iterated())
        case "reverse":
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return generator(try value.iterated().reversed())
        case "int":
            return toInt(value, default: arg(0, "default") ?? .int(0), base: arg(1, "base")?.integerValue ?? 10)
        case "float":
            return toFloat(value, default: arg(0, "default") ?? .double(0))
        case "abs":
            switch value {
            case .int(let i):
                if i == Int.min { throw TemplateFailure(.type, "integer overflow in abs") }
                return .int(abs(i))
            case .double(let d): return .double(abs(d))
            case .bool(let b): return .int(b ? 1 : 0)
            default: throw TemplateFailure(.type, "bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            let precision = max(-400, min(400, arg(0, "precision")?.integerValue ?? 0))
            let method = arg(1, "method")?.pythonString ?? "common"
            guard let x = value.numericValue else { throw TemplateFailure(.type, "round needs a number") }
            if precision > 300 { return .double(x) }
            if precision < -300 { return .double(0) }
            let scale = pow10(precision)
            let scaled = x * scale
            let rounded: Double = method == "ceil" ? scaled.rounded(.up) : method == "floor" ? scaled.rounded(.down) : scaled.rounded(.toNearestOrEven)
            return .double(rounded / scale)
        case "items":
            switch value {
            case .undefined: return generator([])
            case .dictionary(let d): return generator(d.entries.map { .array([$0.key, $0.value]) })
            default: throw TemplateFailure(.type, "Can only get item pairs from a mapping.")
            }
        case "dictsort":
            guard case .dictionary(let d) = value else {
                if value.isUndefined { throw TemplateFailure(.undefined, "dictsort of an undefined value") }
                throw TemplateFailure(.type, "dictsort requires a mapping")
            }
            let caseSensitive = flag(0, "case_sensitive")
            let byValue = arg(1, "by")?.pythonString == "value"
            let reverse = flag(2, "reverse")
            let pairs = try sortValues(d.entries.map { TemplateValue.array([$0.key, $0.value]) }, reverse: reverse) { pair in
                let key = try self.item(of: pair, .int(byValue ? 1 : 0))
                return caseSensitive ? key : self.foldCase(key)
            }
            return .array(pairs)
        case "sort":
            let reverse = flag(0, "reverse")
            let caseSensitive = flag(1, "case_sensitive")
            let attribute = arg(2, "attribute")
            return .array(try sortValues(try value.iterated(), reverse: reverse) { item in
                let key = try attribute.map { try self.lookupPath(item, $0) } ?? item
                return caseSensitive ? key : self.foldCase(key)
            })
        case "unique":
            let caseSensitive = flag(0, "case_sensitive")
            let attribute = arg(1, "attribute")
            var seen: [TemplateValue] = []
            var result: [TemplateValue] = []
            for item in try value.iterated() {
                var key = try attribute.map { try lookupPath(item, $0) } ?? item
                if !caseSensitive { key = foldCase(key) }
                if !seen.contains(where: { $0.pythonEquals(key) }) {
                    seen.append(key)
                    result.append(item)
                }
            }
            return generator(result)
        case "min", "max":
            let caseSensitive = flag(0, "case_sensitive")
            let attribute = arg(1, "attribute")
            let sorted = try sortValues(try value.iterated(), reverse: name == "max") { item in
                let key = try attribute.map { try self.lookupPath(item, $0) } ?? item
                return caseSensitive ? key : self.foldCase(key)
            }
            return sorted.first ?? .undefined
        case "sum":
            let attribute = arg(0, "attribute")
            var total = arg(1, "start") ?? .int(0)
            for item in try value.iterated() {
                total = try arithmetic("+", total, try attribute.map { try lookupPath(item, $0) } ?? item)
            }
            return total
        case "map":
            let items = value.isTruthy ? try value.iterated() : []
            if let attribute = keywords.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = keywords.first(where: { $0.0 == "default" })?.1
                return generator(try items.map { item in
                    let v = try lookupPath(item, attribute)
                    return v.isUndefined ? (fallback ?? v) : v
                })
            }
            guard case .string(let filter)? = positional.first else { throw TemplateFailure(.type, "map needs a filter name or attribute=") }
            let rest = Array(positional.dropFirst())
            return generator(try items.map { try applyFilter(filter, $0, rest, keywords) })
        case "select", "reject":
            let items = value.isTruthy ? try value.iterated() : []
            let keep = name == "select"
            return generator(try items.filter { item in
                let passes: Bool
                if case .string(let test)? = positional.first {
                    passes = try applyTest(test, item, Array(positional.dropFirst()))
                } else {
                    passes = item.isTruthy
                }
                return passes == keep
            })
        case "selectattr", "rejectattr":
            let items = value.isTruthy ? try value.iterated() : []
            let keep = name == "selectattr"
            guard let attribute = positional.first else { throw TemplateFailure(.type, "\(name) needs an attribute name") }
            return generator(try items.filter { item in
                let v = try lookupPath(item, attribute)
                let passes: Bool
                if positional.count > 1, case .string(let test) = positional[1] {
                    passes = try applyTest(test, v, Array(positional.dropFirst(2)))
                } else {
                    passes = v.isTruthy
                }
                return passes == keep
            })
        case "attr":
            guard let attribute = arg(0, "name") else { throw TemplateFailure(.type, "attr needs a name") }
            return attribute.pythonString.isEmpty ? .undefined : self.attribute(of: value, attribute.pythonString)
        case "tojson":
            let indentValue = arg(0, "indent")
            var indent: String? = nil
            if let i = indentValue?.integerValue { indent = String(repeating: " ", count: max(0, i)) }
            else if case .string(let s)? = indentValue { indent = s }
            var separators: (String, String)? = nil
            if case .array(let s)? = keywords.first(where: { $0.0 == "separators" })?.1, s.count == 2 {
                separators = (s[0].pythonString, s[1].pythonString)
            }
            let sortKeys = keywords.first(where: { $0.0 == "sort_keys" })?.1.isTruthy ?? false
            let ensureASCII = keywords.first(where: { $0.0 == "ensure_ascii" })?.1.isTruthy ?? false
            let json = try TemplateJSON(indent: indent, separators: separators, sortKeys: sortKeys, ensureASCII: ensureASCII).encode(value)
            try checkSize(json.utf8.count)
            return .string(json)
        case "indent":
            let widthValue = arg(0, "width") ?? .int(4)
            let indentation: String
            if case .string(let s) = widthValue { indentation = s } else {
                let width = max(0, widthValue.integerValue ?? 4)
                try checkSize(width)
                indentation = String(repeating: " ", count: width)
            }
            let lines = PythonString.splitLines(text() + "\n")
            var result: String
            if flag(2, "blank") {
                result = lines.joined(separator: "\n" + indentation)
            } else {
                result = lines.first ?? ""
                let rest = lines.dropFirst()
                if !rest.isEmpty { result += "\n" + rest.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n") }
            }
            if flag(1, "first") { result = indentation + result }
            try checkSize(result.utf8.count)
            return .string(result)
        case "center":
            let width = arg(0, "width")?.integerValue ?? 80
            let s = text()
            let pad = max(0, width - s.unicodeScalars.count)
            let left = pad / 2 + (pad & width & 1)
            try checkSize(width)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: pad - left))
        case "wordcount":
            return .int(text().split { !($0.isLetter || $0.isNumber || $0 == "_") }.count)
        case "striptags":
            var out = ""
            var inTag = false
            for c in text() {
                if c == "<" { inTag = true } else if c == ">" && inTag { inTag = false } else if !inTag { out.append(c) }
            }
            return .string(out.split(whereSeparator: { $0.isWhitespace }).joined(separator: " "))
        case "truncate":
            let length = arg(0, "length")?.integerValue ?? 255
            let killWords = flag(1, "killwords")
            let end = arg(2, "end")?.pythonString ?? "..."
            let leeway = arg(3, "leeway")?.integerValue ?? 5
            let s = text()
            let scalars = Array(s.unicodeScalars)
            if scalars.count <= length + leeway { return .string(s) }
            let cut = max(0, length - end.unicodeScalars.count)
            var head = String(String.UnicodeScalarView(scalars[..<cut]))
            if !killWords, let space = head.lastIndex(of: " ") { head = String(head[..<space]) }
            return .string(head + end)
        case "format":
            return .string(try TemplateStringFormat.percent(text(), .array(positional)))
        case "batch", "slice":
            guard let size = arg(0, name == "batch" ? "linecount" : "slices")?.integerValue, size > 0 else {
                throw TemplateFailure(.type, "\(name) needs a positive count")
            }
            let items = try value.iterated()
            try checkCount(size)
            let fill = arg(1, "fill_with")
            var groups: [TemplateValue] = []
            if name == "batch" {
                var index = 0
                while index < items.count {
                    var group = Array(items[index..<min(items.count, index + size)])
                    if let fill, group.count < size { group += Array(repeating: fill, count: size - group.count) }
                    groups.append(.array(group))
                    index += size
                }
            } else {
                let per = items.count / size, extra = items.count % size
                var offset = 0
                for i in 0..<size {
                    let count = per + (i < extra ? 1 : 0)
                    var group = Array(items[offset..<(offset + count)])
                    offset += count
                    if let fill, i >= extra, extra > 0 { group.append(fill) }
                    groups.append(.array(group))
                }
            }
            return generator(groups)
        case "pprint":
            return .string(value.pythonRepr)
        case "groupby":
            guard let attribute = arg(0, "attribute") else { throw TemplateFailure(.type, "groupby needs an attribute") }
            let sorted = try sortValues(try value.iterated(), reverse: false) { try self.lookupPath($0, attribute) }
            var groups: [(TemplateValue, [TemplateValue])] = []
            for item in sorted {
                let key = try lookupPath(item, attribute)
                if let last = groups.last, last.0.pythonEquals(key) { groups[groups.count - 1].1.append(item) }
                else { groups.append((key, [item])) }
            }
            return .array(groups.map { .array([$0.0, .array($0.1)]) })
        default:
            throw TemplateFailure(.type, "no filter named '\(name)'")
        }
    }

    func generator(_ items: [TemplateValue]) -> TemplateValue { .object(TemplateObject(.generator(items))) }

    func isStringLike(_ value: TemplateValue) -> Bool { if case .string = value { return true } else { return false } }

    /// `attribute='a.b'` / `attribute=0`: Jinja's dotted item lookup.
    func lookupPath(_ value: TemplateValue, _ path: TemplateValue) throws -> TemplateValue {
        if let index = path.integerValue { return try item(of: value, .int(index)) }
        var current = value
        for part in path.pythonString.split(separator: ".", omittingEmptySubsequences: false) {
            if current.isUndefined { return .undefined }
            current = try item(of: current, Int(part).map { .int($0) } ?? .string(String(part)))
        }
        return current
    }

    func foldCase(_ value: TemplateValue) -> TemplateValue {
        if case .string(let s) = value { return .string(s.lowercased()) }
        return value
    }

    /// A stable sort by Python ordering of the keys; unorderable keys are a type error.
    func sortValues(_ items: [TemplateValue], reverse: Bool, key: (TemplateValue) throws -> TemplateValue) throws -> [TemplateValue] {
        let keyed = try items.map { (try key($0), $0) }
        var failure: TemplateFailure? = nil
        let sorted = keyed.enumerated().sorted { a, b in
            let less = a.element.0.pythonLess(b.element.0)
            let greater = b.element.0.pythonLess(a.element.0)
            if less == nil || greater == nil {
                failure = TemplateFailure(.type, "'<' not supported between instances of '\(a.element.0.typeName)' and '\(b.element.0.typeName)'")
                return a.offset < b.offset
            }
            if reverse { return greater! || (!less! && a.offset < b.offset) }
            return less! || (!greater! && a.offset < b.offset)
        }
        if let failure { throw failure }
        return sorted.map { $0.element.1 }
    }

    func escapeHTML(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Jinja's `title` filter: words start after whitespace, `-`, or an opening bracket.
    func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for c in s {
            let separator = c.isWhitespace || "-({[<".contains(c)
            if separator {
                out.append(c)
                atWordStart = true
            } else {
                out += atWordStart ? c.uppercased() : c.lowercased()
                atWordStart = false
            }
        }
        return out
    }

    func toInt(_ value: TemplateValue, default fallback: TemplateValue, base: Int) -> TemplateValue {
        switch value {
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return d.isFinite && abs(d) < 9.2e18 ? .int(Int(d)) : fallback
        case .string(let s):
            let trimmed = PythonString.strip(s, nil, leading: true, trailing: true).replacingOccurrences(of: "_", with: "")
            if let i = Int(trimmed, radix: base) { return .int(i) }
            if let d = Double(trimmed), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    func toFloat(_ value: TemplateValue, default fallback: TemplateValue) -> TemplateValue {
        switch value {
        case .int(let i): return .double(Double(i))
        case .bool(let b): return .double(b ? 1 : 0)
        case .double: return value
        case .string(let s): return Double(PythonString.strip(s, nil, leading: true, trailing: true)).map { .double($0) } ?? fallback
        default: return fallback
        }
    }

    func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(n) { r *= 10 }
        return n < 0 ? 1 / r : r
    }
}
