/// A token of a chat template: literal text, tag delimiters, or an expression token.
struct TemplateToken: Equatable {
    enum Kind: Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case end
    }

    var kind: Kind
    var line: Int
}

/// Splits a template into tokens with Jinja's delimiters (`{{ }}`, `{% %}`, `{# #}`) and
/// whitespace control as HuggingFace configures it: `trim_blocks` (drop the newline after a
/// block or comment tag), `lstrip_blocks` (drop spaces and tabs before a block or comment
/// tag that starts a line), `-` to strip all whitespace on that side, `+` to turn the two
/// off, and one trailing newline of the source dropped (`keep_trailing_newline=False`).
struct TemplateLexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var tokens: [TemplateToken] = []
    private let trimBlocks: Bool
    private let lstripBlocks: Bool

    init(source: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) {
        // Newlines are normalised to "\n" and one trailing newline dropped, as Jinja does.
        var normalized = String.UnicodeScalarView()
        var iterator = source.unicodeScalars.makeIterator()
        var previousCR = false
        while let scalar = iterator.next() {
            if scalar == "\r" {
                normalized.append("\n")
                previousCR = true
                continue
            }
            if scalar == "\n" && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            normalized.append(scalar)
        }
        var array = Array(normalized)
        if array.last == "\n" { array.removeLast() }
        scalars = array
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
    }

    /// Tokenizes the whole template.
    static func tokenize(_ source: String) throws -> [TemplateToken] {
        var lexer = TemplateLexer(source: source)
        return try lexer.run()
    }

    private func at(_ index: Int) -> Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }

    private mutating func advance(to index: Int) {
        while position < index {
            if scalars[position] == "\n" { line += 1 }
            position += 1
        }
    }

    private func error(_ message: String) -> ChatTemplateError { ChatTemplateError(.syntax, message, line: line) }

    mutating func run() throws -> [TemplateToken] {
        var stripLeading = false  // the previous tag ended with "-"
        while position < scalars.count || stripLeading {
            // Find the next tag opener.
            var opener = position
            var kind: Unicode.Scalar? = nil
            while opener + 1 < scalars.count {
                if scalars[opener] == "{", let next = at(opener + 1), next == "{" || next == "%" || next == "#" {
                    kind = next
                    break
                }
                opener += 1
            }
            let dataEnd = kind == nil ? scalars.count : opener
            var start = position
            var end = dataEnd
            if stripLeading {
                while start < end && Self.isSpace(scalars[start]) { start += 1 }
                stripLeading = false
            }
            let sign = kind == nil ? nil : at(opener + 2)
            if kind != nil {
                if sign == "-" {
                    while end > start && Self.isSpace(scalars[end - 1]) { end -= 1 }
                } else if sign != "+" && lstripBlocks && kind != "{" {
                    // Spaces and tabs between the line start and the tag go.
                    var lineStart = dataEnd
                    while lineStart > position && scalars[lineStart - 1] != "\n" { lineStart -= 1 }
                    let atLineStart = lineStart > position || position == 0 || scalars[position - 1] == "\n"
                    if atLineStart && scalars[lineStart..<dataEnd].allSatisfy({ Self.isSpace($0) && $0 != "\n" }) {
                        end = max(start, lineStart)
                    }
                }
            }
            if end > start {
                let text = String(String.UnicodeScalarView(scalars[start..<end]))
                tokens.append(TemplateToken(kind: .text(text), line: line))
            }
            advance(to: dataEnd)
            guard let kind else { break }
            let tagLine = line
            var bodyStart = opener + 2
            if sign == "-" || sign == "+" { bodyStart += 1 }
            advance(to: bodyStart)
            switch kind {
            case "#":
                stripLeading = try lexComment(line: tagLine)
            case "{":
                tokens.append(TemplateToken(kind: .variableBegin, line: tagLine))
                stripLeading = try lexExpression(closer: "}", line: tagLine)
                tokens.append(TemplateToken(kind: .variableEnd, line: line))
            default:
                if try lexRawBlock() { continue }
                tokens.append(TemplateToken(kind: .blockBegin, line: tagLine))
                stripLeading = try lexExpression(closer: "%", line: tagLine)
                tokens.append(TemplateToken(kind: .blockEnd, line: line))
            }
        }
        tokens.append(TemplateToken(kind: .end, line: line))
        return tokens
    }

    /// Skips a comment; returns whether it ended with `-#}`.
    private mutating func lexComment(line tagLine: Int) throws -> Bool {
        var index = position
        while index + 1 < scalars.count && !(scalars[index] == "#" && scalars[index + 1] == "}") { index += 1 }
        guard index + 1 < scalars.count else {
            throw ChatTemplateError(.syntax, "unterminated comment (missing '#}')", line: tagLine)
        }
        let sign = index > position ? scalars[index - 1] : nil
        advance(to: index + 2)
        return finishTag(sign: sign)
    }

    /// After a block or comment closer: applies trim_blocks; returns whether it was `-`.
    private mutating func finishTag(sign: Unicode.Scalar?) -> Bool {
        if sign == "-" { return true }
        if sign != "+" && trimBlocks && at(position) == "\n" { advance(to: position + 1) }
        return false
    }

    /// `{% raw %}...{% endraw %}`: emits the body as text.
    private mutating func lexRawBlock() throws -> Bool {
        var index = position
        while let s = at(index), Self.isSpace(s) { index += 1 }
        guard Array(scalars[index..<min(scalars.count, index + 3)]) == ["r", "a", "w"] else { return false }
        index += 3
        while let s = at(index), Self.isSpace(s) { index += 1 }
        var closeSign: Unicode.Scalar? = nil
        if at(index) == "-" || at(index) == "+" { closeSign = at(index); index += 1 }
        guard at(index) == "%", at(index + 1) == "}" else { return false }
        let tagLine = line
        advance(to: index + 2)
        var bodyStart = position
        if closeSign == "-" { while let s = at(bodyStart), Self.isSpace(s) { bodyStart += 1 } }
        // Find "{%[-+]? endraw [-+]?%}".
        var search = bodyStart
        while search + 1 < scalars.count {
            if scalars[search] == "{" && scalars[search + 1] == "%" {
                var j = search + 2
                let openSign = at(j) == "-" || at(j) == "+" ? at(j) : nil
                if openSign != nil { j += 1 }
                while let s = at(j), Self.isSpace(s) { j += 1 }
                if Array(scalars[j..<min(scalars.count, j + 6)]) == ["e", "n", "d", "r", "a", "w"] {
                    j += 6
                    while let s = at(j), Self.isSpace(s) { j += 1 }
                    var endSign: Unicode.Scalar? = nil
                    if at(j) == "-" || at(j) == "+" { endSign = at(j); j += 1 }
                    if at(j) == "%", at(j + 1) == "}" {
                        var bodyEnd = search
                        if openSign == "-" { while bodyEnd > bodyStart && Self.isSpace(scalars[bodyEnd - 1]) { bodyEnd -= 1 } }
                        if bodyEnd > bodyStart {
                            tokens.append(TemplateToken(kind: .text(String(String.UnicodeScalarView(scalars[bodyStart..<bodyEnd]))), line: line))
                        }
                        advance(to: j + 2)
                        if finishTag(sign: endSign) {
                            while let s = at(position), Self.isSpace(s) { advance(to: position + 1) }
                        }
                        return true
                    }
                }
            }
            search += 1
        }
        throw ChatTemplateError(.syntax, "unterminated raw block (missing '{% endraw %}')", line: tagLine)
    }

    /// Tokens of one `{{ }}` or `{% %}` tag up to its closer; returns whether it was `-`.
    private mutating func lexExpression(closer: Unicode.Scalar, line tagLine: Int) throws -> Bool {
        var depth: [Unicode.Scalar] = []
        while true {
            while let s = at(position), Self.isSpace(s) { advance(to: position + 1) }
            guard let c = at(position) else {
                throw ChatTemplateError(.syntax, closer == "}" ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'", line: tagLine)
            }
            if depth.isEmpty {
                if (c == "-" || c == "+"), at(position + 1) == closer, at(position + 2) == "}" {
                    if closer == "}" && c == "+" {
                        // "+}}" is not a closer for variables.
                    } else {
                        advance(to: position + 3)
                        if closer == "}" { return c == "-" }
                        return finishTag(sign: c)
                    }
                }
                if c == closer, at(position + 1) == "}" {
                    advance(to: position + 2)
                    if closer == "}" { return false }
                    return finishTag(sign: nil)
                }
            }
            let tokenLine = line
            if c == "_" || c.properties.isAlphabetic {
                var end = position
                while let s = at(end), s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil { end += 1 }
                tokens.append(TemplateToken(kind: .name(String(String.UnicodeScalarView(scalars[position..<end]))), line: tokenLine))
                advance(to: end)
            } else if c.isASCIIDigit {
                try lexNumber(line: tokenLine)
            } else if c == "'" || c == "\"" {
                try lexString(quote: c, line: tokenLine)
            } else {
                let two = at(position + 1).map { String(c) + String($0) } ?? ""
                let op: String
                if ["//", "**", "==", "!=", "<=", ">="].contains(two) {
                    op = two
                } else if "+-*/%~<>=()[]{},.:|;".unicodeScalars.contains(c) {
                    op = String(c)
                } else {
                    throw ChatTemplateError(.syntax, "unexpected character '\(c)'", line: tokenLine)
                }
                if op == "(" || op == "[" || op == "{" { depth.append(c) }
                if op == ")" || op == "]" || op == "}" {
                    let expected: Unicode.Scalar = op == ")" ? "(" : op == "]" ? "[" : "{"
                    guard depth.last == expected else {
                        throw ChatTemplateError(.syntax, "unexpected '\(op)'", line: tokenLine)
                    }
                    depth.removeLast()
                }
                tokens.append(TemplateToken(kind: .op(op), line: tokenLine))
                advance(to: position + op.unicodeScalars.count)
            }
        }
    }

    private mutating func lexNumber(line tokenLine: Int) throws {
        var end = position
        func digits() { while let s = at(end), s.isASCIIDigit || (s == "_" && at(end + 1)?.isASCIIDigit == true) { end += 1 } }
        digits()
        var isFloat = false
        let afterDot: Bool
        if case .op(".")? = tokens.last?.kind { afterDot = true } else { afterDot = false }
        if !afterDot, at(end) == ".", at(end + 1)?.isASCIIDigit == true {
            isFloat = true
            end += 1
            digits()
        }
        if !afterDot, at(end) == "e" || at(end) == "E" {
            var j = end + 1
            if at(j) == "+" || at(j) == "-" { j += 1 }
            if at(j)?.isASCIIDigit == true {
                isFloat = true
                end = j
                digits()
            }
        }
        let text = String(String.UnicodeScalarView(scalars[position..<end])).replacingOccurrences(of: "_", with: "")
        if isFloat {
            tokens.append(TemplateToken(kind: .float(Double(text) ?? 0), line: tokenLine))
        } else {
            guard let value = Int(text) else { throw ChatTemplateError(.syntax, "integer literal too large: \(text)", line: tokenLine) }
            tokens.append(TemplateToken(kind: .integer(value), line: tokenLine))
        }
        advance(to: end)
    }

    /// A string literal with Python's escapes (\n, \t, \\, \', \", \xhh, \uXXXX, \UXXXXXXXX, octal).
    private mutating func lexString(quote: Unicode.Scalar, line tokenLine: Int) throws {
        var out = String.UnicodeScalarView()
        var index = position + 1
        while true {
            guard let c = at(index) else { throw ChatTemplateError(.syntax, "unterminated string literal", line: tokenLine) }
            if c == quote { index += 1; break }
            if c != "\\" { out.append(c); index += 1; continue }
            guard let e = at(index + 1) else { throw ChatTemplateError(.syntax, "unterminated string literal", line: tokenLine) }
            index += 2
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "\n": break
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                let hex = scalars[index..<min(scalars.count, index + width)]
                guard hex.count == width, let value = UInt32(String(String.UnicodeScalarView(hex)), radix: 16),
                      let scalar = Unicode.Scalar(value) else {
                    throw ChatTemplateError(.syntax, "invalid \\\(e) escape in string literal", line: tokenLine)
                }
                out.append(scalar)
                index += width
            case "0"..."7":
                var value = e.value - 48
                var count = 1
                while count < 3, let d = at(index), ("0"..."7").contains(d) {
                    value = value * 8 + d.value - 48
                    index += 1
                    count += 1
                }
                out.append(Unicode.Scalar(value) ?? "?")
            default:
                out.append("\\")
                out.append(e)
            }
        }
        tokens.append(TemplateToken(kind: .string(String(out)), line: tokenLine))
        advance(to: index)
    }
}

extension Unicode.Scalar {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
