/// Python methods on strings, dictionaries and lists that templates call
/// (`content.strip()`, `message.get('x')`, `tools.items()`). Methods that would change a
/// list or dictionary are refused, as Jinja's ImmutableSandboxedEnvironment refuses them.
extension TemplateInterpreter {
    static let dictionaryMethods: Set<String> = ["items", "keys", "values", "get", "copy",
        "update", "pop", "popitem", "setdefault", "clear"]
    static let stringMethods: Set<String> = ["strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
        "startswith", "endswith", "upper", "lower", "title", "capitalize", "swapcase", "replace", "format",
        "join", "find", "rfind", "index", "rindex", "count", "isdigit", "isalpha", "isalnum", "isspace",
        "isupper", "islower", "isnumeric", "isdecimal", "istitle", "zfill", "center", "ljust", "rjust",
        "partition", "rpartition", "removeprefix", "removesuffix", "casefold", "expandtabs"]
    static let listMethods: Set<String> = ["index", "count", "copy", "append", "extend", "insert", "pop",
        "remove", "clear", "sort", "reverse"]
    static let mutatingMethods: Set<String> = ["update", "pop", "popitem", "setdefault", "clear", "append",
        "extend", "insert", "remove", "sort", "reverse"]

    func callMethod(_ receiver: TemplateValue, _ name: String, _ positional: [TemplateValue],
                    _ keywords: [(String, TemplateValue)]) throws -> TemplateValue {
        let arg = { (i: Int, key: String) in self.argument(positional, keywords, i, key) }
        switch receiver {
        case .string(let s):
            return try callStringMethod(s, name, arg, positional, keywords)
        case .dictionary(let d):
            if Self.mutatingMethods.contains(name) { throw unsafe(name, receiver) }
            switch name {
            case "items": return .array(d.entries.map { .array([$0.key, $0.value]) })
            case "keys": return .array(d.keys)
            case "values": return .array(d.values)
            case "get":
                guard let key = arg(0, "key") else { throw TemplateFailure(.type, "get expected at least 1 argument, got 0") }
                return d[key] ?? arg(1, "default") ?? .none
            case "copy": return receiver
            default: break
            }
        case .array(let a):
            if Self.mutatingMethods.contains(name) { throw unsafe(name, receiver) }
            switch name {
            case "index":
                guard let needle = arg(0, "value"), let i = a.firstIndex(where: { $0.pythonEquals(needle) }) else {
                    throw TemplateFailure(.type, "value is not in list")
                }
                return .int(i)
            case "count":
                guard let needle = arg(0, "value") else { throw TemplateFailure(.type, "count() takes exactly one argument") }
                return .int(a.filter { $0.pythonEquals(needle) }.count)
            case "copy": return receiver
            default: break
            }
        case .object(let o):
            if case .loop = o.kind, name == "cycle" {
                guard !positional.isEmpty else { throw TemplateFailure(.type, "no items for cycling given") }
                let index = o.attributes["index0"]?.integerValue ?? 0
                return positional[index % positional.count]
            }
        default: break
        }
        throw TemplateFailure(.type, "'\(receiver.typeName)' object has no method '\(name)'")
    }

    func unsafe(_ name: String, _ receiver: TemplateValue) -> TemplateFailure {
        TemplateFailure(.security, "access to attribute '\(name)' of '\(receiver.typeName)' object is unsafe.")
    }

    private func callStringMethod(_ s: String, _ name: String, _ arg: (Int, String) -> TemplateValue?,
                                  _ positional: [TemplateValue], _ keywords: [(String, TemplateValue)]) throws -> TemplateValue {
        func stringArg(_ i: Int, _ key: String) throws -> String? {
            guard let v = arg(i, key), !v.isNone else { return nil }
            guard case .string(let text) = v else { throw TemplateFailure(.type, "\(name)() argument must be str, not \(v.typeName)") }
            return text
        }
        switch name {
        case "strip": return .string(PythonString.strip(s, try stringArg(0, "chars"), leading: true, trailing: true))
        case "lstrip": return .string(PythonString.strip(s, try stringArg(0, "chars"), leading: true, trailing: false))
        case "rstrip": return .string(PythonString.strip(s, try stringArg(0, "chars"), leading: false, trailing: true))
        case "split", "rsplit":
            let maxSplit = arg(1, "maxsplit")?.integerValue ?? -1
            let parts = try PythonString.split(s, separator: try stringArg(0, "sep"), maxSplit: maxSplit, fromRight: name == "rsplit")
            return .array(parts.map { .string($0) })
        case "splitlines": return .array(PythonString.splitLines(s).map { .string($0) })
        case "startswith", "endswith":
            let candidates: [String]
            switch arg(0, name == "startswith" ? "prefix" : "suffix") {
            case .string(let p)?: candidates = [p]
            case .array(let items)?: candidates = items.map(\.pythonString)
            default: throw TemplateFailure(.type, "\(name) first arg must be str or a tuple of str")
            }
            let scalars = Array(s.unicodeScalars)
            let start = arg(1, "start")?.integerValue.map { $0 < 0 ? max(0, scalars.count + $0) : min($0, scalars.count) } ?? 0
            let subject = Array(scalars[start...])
            return .bool(candidates.contains { c in
                let cs = Array(c.unicodeScalars)
                return name == "startswith" ? subject.starts(with: cs) : subject.reversed().starts(with: cs.reversed())
            })
        case "upper": return .string(s.uppercased())
        case "lower", "casefold": return .string(s.lowercased())
        case "title": return .string(PythonString.title(s))
        case "capitalize": return .string(PythonString.capitalize(s))
        case "swapcase":
            return .string(String(s.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) }))
        case "replace":
            guard let old = try stringArg(0, "old"), let new = try stringArg(1, "new") else {
                throw TemplateFailure(.type, "replace() needs two string arguments")
            }
            let result = PythonString.replace(s, old, new, count: arg(2, "count")?.integerValue ?? -1)
            try checkSize(result.utf8.count)
            return .string(result)
        case "format":
            return .string(try TemplateStringFormat.format(s, positional: positional, keywords: keywords))
        case "join":
            let items = try (arg(0, "iterable") ?? .array([])).iterated()
            let result = items.map(\.pythonString).joined(separator: s)
            try checkSize(result.utf8.count)
            return .string(result)
        case "find", "rfind", "index", "rindex", "count":
            guard let needle = try stringArg(0, "sub") else { throw TemplateFailure(.type, "\(name)() needs a string") }
            if name == "count" { return .int(PythonString.count(s, needle)) }
            let found = PythonString.find(s, needle, fromRight: name.hasPrefix("r"))
            if found < 0 && name.hasSuffix("index") { throw TemplateFailure(.type, "substring not found") }
            return .int(found)
        case "isdigit", "isnumeric", "isdecimal":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
        case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isWhitespace })
        case "isupper": return .bool(s.contains { $0.isCased } && s == s.uppercased())
        case "islower": return .bool(s.contains { $0.isCased } && s == s.lowercased())
        case "istitle": return .bool(s.contains { $0.isCased } && s == PythonString.title(s))
        case "zfill", "center", "ljust", "rjust":
            let width = arg(0, "width")?.integerValue ?? 0
            let fill = name == "zfill" ? "0" : (try stringArg(1, "fillchar") ?? " ")
            let length = s.unicodeScalars.count
            if width <= length { return .string(s) }
            try checkSize(width)
            let pad = width - length
            switch name {
            case "ljust": return .string(s + String(repeating: fill, count: pad))
            case "rjust": return .string(String(repeating: fill, count: pad) + s)
            case "center":
                let left = pad / 2 + (pad & width & 1)
                return .string(String(repeating: fill, count: left) + s + String(repeating: fill, count: pad - left))
            default:
                if let sign = s.first, sign == "-" || sign == "+" {
                    return .string(String(sign) + String(repeating: "0", count: pad) + s.dropFirst())
                }
                return .string(String(repeating: "0", count: pad) + s)
            }
        case "partition", "rpartition":
            guard let separator = try stringArg(0, "sep"), !separator.isEmpty else { throw TemplateFailure(.type, "empty separator") }
            let index = PythonString.find(s, separator, fromRight: name == "rpartition")
            let scalars = Array(s.unicodeScalars)
            if index < 0 {
                return name == "partition" ? .array([.string(s), "", ""]) : .array(["", "", .string(s)])
            }
            let before = String(String.UnicodeScalarView(scalars[..<index]))
            let after = String(String.UnicodeScalarView(scalars[(index + separator.unicodeScalars.count)...]))
            return .array([.string(before), .string(separator), .string(after)])
        case "removeprefix":
            let p = try stringArg(0, "prefix") ?? ""
            return .string(s.hasPrefix(p) ? String(s.unicodeScalars.dropFirst(p.unicodeScalars.count)) : s)
        case "removesuffix":
            let p = try stringArg(0, "suffix") ?? ""
            return .string(!p.isEmpty && s.hasSuffix(p) ? String(s.unicodeScalars.dropLast(p.unicodeScalars.count)) : s)
        case "expandtabs":
            return .string(s.replacingOccurrences(of: "\t", with: "        "))
        default: break
        }
        throw TemplateFailure(.type, "'str' object has no method '\(name)'")
    }
}

/// Python's `str` algorithms over Unicode scalars.
enum PythonString {
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || ("\u{1C}"..."\u{1F}").contains(s)
    }

    static func strip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let shouldStrip: (Unicode.Scalar) -> Bool = { set?.contains($0) ?? isSpace($0) }
        var scalars = Substring(s).unicodeScalars[...]
        if leading { while let f = scalars.first, shouldStrip(f) { scalars.removeFirst() } }
        if trailing { while let l = scalars.last, shouldStrip(l) { scalars.removeLast() } }
        return String(String.UnicodeScalarView(scalars))
    }

    static func split(_ s: String, separator: String?, maxSplit: Int, fromRight: Bool) throws -> [String] {
        let scalars = Array(s.unicodeScalars)
        func text(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[r])) }
        guard let separator else {
            // Runs of whitespace separate; leading and trailing whitespace gives no empty parts.
            var words: [Range<Int>] = []
            var i = 0
            while i < scalars.count {
                while i < scalars.count && isSpace(scalars[i]) { i += 1 }
                if i >= scalars.count { break }
                var j = i
                while j < scalars.count && !isSpace(scalars[j]) { j += 1 }
                words.append(i..<j)
                i = j
            }
            if maxSplit >= 0 && words.count > maxSplit + 1 {
                if fromRight {
                    let keep = words.suffix(maxSplit)
                    let head = strip(text(0..<keep.first!.lowerBound), nil, leading: false, trailing: true)
                    return [head] + keep.map(text)
                }
                let keep = words.prefix(maxSplit)
                let tail = strip(text(words[maxSplit].lowerBound..<scalars.count), nil, leading: false, trailing: true)
                return keep.map(text) + [tail]
            }
            return words.map(text)
        }
        let sep = Array(separator.unicodeScalars)
        if sep.isEmpty { throw TemplateFailure(.type, "empty separator") }
        var cuts: [Int] = []  // start index of each separator occurrence
        var i = 0
        while i + sep.count <= scalars.count {
            if Array(scalars[i..<(i + sep.count)]) == sep {
                cuts.append(i)
                i += sep.count
            } else {
                i += 1
            }
        }
        if maxSplit >= 0 && cuts.count > maxSplit {
            cuts = fromRight ? Array(cuts.suffix(maxSplit)) : Array(cuts.prefix(maxSplit))
        }
        var parts: [String] = []
        var start = 0
        for cut in cuts {
            parts.append(text(start..<cut))
            start = cut + sep.count
        }
        parts.append(text(start..<scalars.count))
        return parts
    }

    static func splitLines(_ s: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for scalar in s.unicodeScalars {
            if previousCR && scalar == "\n" { previousCR = false; continue }
            previousCR = false
            switch scalar {
            case "\n", "\r", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1D}", "\u{1E}", "\u{85}", "\u{2028}", "\u{2029}":
                lines.append(String(current))
                current = String.UnicodeScalarView()
                previousCR = scalar == "\r"
            default:
                current.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// Python's `str.title()`: the first cased letter after a non-letter is upper-cased.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s {
            out += previousCased ? c.lowercased() : c.uppercased()
            previousCased = c.isLetter
        }
        return out
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst().lowercased()
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        if old.isEmpty {
            var out = new
            var n = 1
            for c in s.unicodeScalars {
                out.unicodeScalars.append(c)
                if count < 0 || n < count { out += new; n += 1 }
            }
            return out
        }
        let parts = (try? split(s, separator: old, maxSplit: count, fromRight: false)) ?? [s]
        return parts.joined(separator: new)
    }

    static func find(_ s: String, _ needle: String, fromRight: Bool) -> Int {
        let a = Array(s.unicodeScalars), n = Array(needle.unicodeScalars)
        if n.count > a.count { return -1 }
        let range = 0...(a.count - n.count)
        for i in (fromRight ? Array(range.reversed()) : Array(range)) where Array(a[i..<(i + n.count)]) == n { return i }
        return -1
    }

    static func count(_ s: String, _ needle: String) -> Int {
        if needle.isEmpty { return s.unicodeScalars.count + 1 }
        return ((try? split(s, separator: needle, maxSplit: -1, fromRight: false).count) ?? 1) - 1
    }
}
