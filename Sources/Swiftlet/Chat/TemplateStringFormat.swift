import Foundation

/// Python's `str.format` and `%` formatting, for the fields templates use
/// (`'{}'.format(x)`, `'{0}'`, `'{name}'`, `'{:>4}'`, `'{:.2f}'`, `'%s' % x`, `'%d'`).
enum TemplateStringFormat {
    static func format(_ template: String, positional: [TemplateValue], keywords: [(String, TemplateValue)]) throws -> String {
        var out = ""
        var autoIndex = 0
        var scalars = Array(template.unicodeScalars)[...]
        while let c = scalars.first {
            scalars.removeFirst()
            if c == "}" {
                guard scalars.first == "}" else { throw TemplateFailure(.type, "Single '}' encountered in format string") }
                scalars.removeFirst()
                out += "}"
                continue
            }
            guard c == "{" else { out.unicodeScalars.append(c); continue }
            if scalars.first == "{" {
                scalars.removeFirst()
                out += "{"
                continue
            }
            var field = ""
            while let f = scalars.first, f != "}" {
                field.unicodeScalars.append(f)
                scalars.removeFirst()
            }
            guard scalars.first == "}" else { throw TemplateFailure(.type, "expected '}' before end of string") }
            scalars.removeFirst()
            var spec = ""
            if let colon = field.firstIndex(of: ":") {
                spec = String(field[field.index(after: colon)...])
                field = String(field[..<colon])
            }
            var conversion: Character? = nil
            if let bang = field.firstIndex(of: "!") {
                conversion = field[field.index(after: bang)...].first
                field = String(field[..<bang])
            }
            let value: TemplateValue
            if field.isEmpty {
                guard autoIndex < positional.count else { throw TemplateFailure(.type, "Replacement index \(autoIndex) out of range for positional args tuple") }
                value = positional[autoIndex]
                autoIndex += 1
            } else if let i = Int(field) {
                guard i < positional.count else { throw TemplateFailure(.type, "Replacement index \(i) out of range for positional args tuple") }
                value = positional[i]
            } else if let v = keywords.first(where: { $0.0 == field })?.1 {
                value = v
            } else {
                throw TemplateFailure(.type, "KeyError: '\(field)'")
            }
            let converted: TemplateValue = conversion == "r" ? .string(value.pythonRepr) : conversion == "s" ? .string(value.pythonString) : value
            out += try formatValue(converted, spec: spec)
        }
        return out
    }

    /// One replacement field with a format spec `[[fill]align][sign][0][width][,][.precision][type]`.
    static func formatValue(_ value: TemplateValue, spec: String) throws -> String {
        if spec.isEmpty { return value.pythonString }
        var chars = Array(spec)[...]
        var fill: Character = " "
        var align: Character? = nil
        if chars.count >= 2, "<>^=".contains(chars[chars.startIndex + 1]) {
            fill = chars.removeFirst()
            align = chars.removeFirst()
        } else if let f = chars.first, "<>^=".contains(f) {
            align = chars.removeFirst()
        }
        var sign: Character? = nil
        if let f = chars.first, "+- ".contains(f) { sign = chars.removeFirst() }
        if chars.first == "0" {
            chars.removeFirst()
            if align == nil { fill = "0"; align = "=" }
        }
        var width = 0
        while let d = chars.first, let digit = d.wholeNumberValue { width = min(width * 10 + digit, 1 << 30); chars.removeFirst() }
        if width > 1 << 20 { throw TemplateFailure(.limit, "format width \(width) is too large") }
        var grouping = false
        if chars.first == "," { grouping = true; chars.removeFirst() }
        var precision: Int? = nil
        if chars.first == "." {
            chars.removeFirst()
            var p = 0
            while let d = chars.first, let digit = d.wholeNumberValue { p = min(p * 10 + digit, 1000); chars.removeFirst() }
            precision = p
        }
        let type = chars.first
        var body: String
        var isNumber = false
        switch (type, value) {
        case ("f", _), ("F", _), ("e", _), ("%", _):
            guard var x = value.numericValue else { throw TemplateFailure(.type, "Unknown format code '\(type!)' for object of type '\(value.typeName)'") }
            isNumber = true
            if type == "%" { x *= 100 }
            let p = precision ?? 6
            body = type == "e" ? String(format: "%.\(p)e", abs(x)) : String(format: "%.\(p)f", abs(x))
            if type == "%" { body += "%" }
            if x < 0 || (x == 0 && x.sign == .minus) { body = "-" + body }
        case ("d", _), (nil, .int), (nil, .bool):
            guard let i = value.integerValue else { throw TemplateFailure(.type, "Unknown format code 'd' for object of type '\(value.typeName)'") }
            isNumber = true
            body = String(i.magnitude)
            if grouping { body = group(body) }
            if i < 0 { body = "-" + body }
        case (nil, .double(let d)):
            isNumber = true
            body = precision.map { String(format: "%.\($0)g", d) } ?? TemplateValue.formatDouble(d)
        default:
            body = value.pythonString
            if let precision { body = String(body.unicodeScalars.prefix(precision).map(Character.init)) }
        }
        if isNumber, let sign, !body.hasPrefix("-") { body = (sign == " " ? " " : sign == "+" ? "+" : "") + body }
        let length = body.count
        guard width > length else { return body }
        let pad = width - length
        switch align ?? (isNumber ? ">" : "<") {
        case "<": return body + String(repeating: fill, count: pad)
        case ">": return String(repeating: fill, count: pad) + body
        case "^": return String(repeating: fill, count: pad / 2) + body + String(repeating: fill, count: pad - pad / 2)
        default:
            if let first = body.first, first == "-" || first == "+" || first == " " {
                return String(first) + String(repeating: fill, count: pad) + body.dropFirst()
            }
            return String(repeating: fill, count: pad) + body
        }
    }

    static func group(_ digits: String) -> String {
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    /// `format % values`: %s %r %d %i %f %x %% with optional width/precision, `%(name)s`.
    static func percent(_ format: String, _ values: TemplateValue) throws -> String {
        var arguments: [TemplateValue]
        if case .array(let a) = values { arguments = a } else { arguments = [values] }
        var out = ""
        var chars = Array(format)[...]
        while let c = chars.first {
            chars.removeFirst()
            guard c == "%" else { out.append(c); continue }
            var key: String? = nil
            if chars.first == "(" {
                chars.removeFirst()
                var k = ""
                while let f = chars.first, f != ")" { k.append(f); chars.removeFirst() }
                chars.removeFirst()
                key = k
            }
            var spec = ""
            while let f = chars.first, "-+ 0#.123456789".contains(f) { spec.append(f); chars.removeFirst() }
            guard let type = chars.first else { throw TemplateFailure(.type, "incomplete format") }
            chars.removeFirst()
            if type == "%" { out += "%"; continue }
            let value: TemplateValue
            if let key {
                guard case .dictionary(let d) = values, let v = d[key] else { throw TemplateFailure(.type, "KeyError: '\(key)'") }
                value = v
            } else {
                guard !arguments.isEmpty else { throw TemplateFailure(.type, "not enough arguments for format string") }
                value = arguments.removeFirst()
            }
            var pySpec = spec.replacingOccurrences(of: "-", with: "<")
            if spec.hasPrefix("-") { pySpec = "<" + spec.dropFirst() }
            switch type {
            case "s": out += try formatValue(.string(value.pythonString), spec: pySpec.hasPrefix("<") ? pySpec : (pySpec.isEmpty ? "" : ">" + pySpec))
            case "r": out += try formatValue(.string(value.pythonRepr), spec: pySpec)
            case "d", "i", "u":
                guard let x = value.numericValue, abs(x) < 9.2e18 else { throw TemplateFailure(.type, "%d format: a real number is required, not \(value.typeName)") }
                out += try formatValue(.int(Int(x)), spec: pySpec + "d")
            case "f", "F", "e", "x":
                if type == "x" {
                    guard let i = value.integerValue else { throw TemplateFailure(.type, "%x format: an integer is required") }
                    out += String(i, radix: 16)
                } else {
                    out += try formatValue(value, spec: (pySpec.contains(".") ? pySpec : pySpec + ".6") + String(type))
                }
            default:
                throw TemplateFailure(.type, "unsupported format character '\(type)'")
            }
        }
        return out
    }
}
