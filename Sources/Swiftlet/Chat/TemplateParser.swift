/// Builds statements from tokens: `if`/`elif`/`else`, `for` (with `if`, `else`,
/// `recursive`), `set` (also block set), `macro`, `call`, `filter`, `with`, `generation`,
/// `break`/`continue`. Expressions are parsed in `TemplateParser+Expressions.swift`.
struct TemplateParser {
    let tokens: [TemplateToken]
    var index = 0
    var depth = 0
    static let maxNesting = 200

    init(tokens: [TemplateToken]) { self.tokens = tokens }

    /// Parses a whole template.
    static func parse(_ source: String) throws -> [TemplateNode] {
        var parser = TemplateParser(tokens: try TemplateLexer.tokenize(source))
        let (nodes, end) = try parser.parseBody(until: [])
        if let end { throw parser.error("unexpected '\(end)'") }
        return nodes
    }

    var current: TemplateToken { tokens[index] }
    var line: Int { current.line }

    func error(_ message: String, line: Int? = nil) -> ChatTemplateError {
        ChatTemplateError(.syntax, message, line: line ?? current.line)
    }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    func isOp(_ op: String) -> Bool { current.kind == .op(op) }
    func isName(_ name: String) -> Bool { current.kind == .name(name) }

    mutating func expectOp(_ op: String) throws {
        guard isOp(op) else { throw error("expected '\(op)', found \(describe(current))") }
        advance()
    }

    mutating func expectName(_ name: String) throws {
        guard isName(name) else { throw error("expected '\(name)', found \(describe(current))") }
        advance()
    }

    mutating func expectIdentifier() throws -> String {
        guard case .name(let name) = current.kind else { throw error("expected a name, found \(describe(current))") }
        advance()
        return name
    }

    mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else { throw error("expected '%}', found \(describe(current))") }
        advance()
    }

    func describe(_ token: TemplateToken) -> String {
        switch token.kind {
        case .text: return "text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string '\(s.prefix(20))'"
        case .integer(let i): return "\(i)"
        case .float(let d): return "\(d)"
        case .op(let o): return "'\(o)'"
        case .end: return "end of template"
        }
    }

    /// Parses nodes until a block tag whose keyword is in `terminators`; returns that keyword
    /// (the tag's `{%` and keyword consumed), or nil at the end of the template.
    mutating func parseBody(until terminators: Set<String>) throws -> ([TemplateNode], String?) {
        var nodes: [TemplateNode] = []
        while true {
            let token = current
            switch token.kind {
            case .end:
                if !terminators.isEmpty {
                    throw error("unexpected end of template, expected one of: \(terminators.sorted().joined(separator: ", "))")
                }
                return (nodes, nil)
            case .text(let text):
                nodes.append(.text(text))
                advance()
            case .variableBegin:
                advance()
                let expression = try parseTuple()
                guard current.kind == .variableEnd else { throw error("expected '}}', found \(describe(current))") }
                advance()
                nodes.append(.output(expression, line: token.line))
            case .blockBegin:
                advance()
                guard case .name(let keyword) = current.kind else { throw error("expected a statement, found \(describe(current))") }
                if terminators.contains(keyword) {
                    advance()
                    return (nodes, keyword)
                }
                advance()
                nodes.append(try parseStatement(keyword, line: token.line))
            default:
                throw error("unexpected \(describe(token))")
            }
        }
    }

    mutating func parseStatement(_ keyword: String, line: Int) throws -> TemplateNode {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxNesting { throw error("blocks nested too deeply") }
        switch keyword {
        case "if": return try parseIf(line: line)
        case "for": return try parseFor(line: line)
        case "set": return try parseSet(line: line)
        case "macro": return try parseMacro(line: line)
        case "call": return try parseCallBlock(line: line)
        case "filter":
            let filters = try parseFilterChain()
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"])
            try expectBlockEnd()
            return .filterBlock(filters, body: body, line: line)
        case "generation":
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try expectBlockEnd()
            return .generation(body)
        case "with":
            // {% with a = 1, b = 2 %}...{% endwith %}: a scope with those names.
            var assignments: [TemplateNode] = []
            while current.kind != .blockEnd {
                if !assignments.isEmpty { try expectOp(",") }
                let target = try parseAssignTarget()
                try expectOp("=")
                assignments.append(.set(target, try parseExpression(), line: line))
            }
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endwith"])
            try expectBlockEnd()
            // A loop over one item gives the scope; the loop variable is unused.
            return .forLoop(target: .name("\u{0}with"), iterable: .literal(.array([.none])), condition: nil,
                            body: assignments + body, otherwise: [], recursive: false, line: line)
        case "break":
            try expectBlockEnd()
            return .breakLoop(line: line)
        case "continue":
            try expectBlockEnd()
            return .continueLoop(line: line)
        case "include", "import", "from", "extends", "block":
            throw ChatTemplateError(.security, "'\(keyword)' is not supported: chat templates are rendered without access to other files", line: line)
        default:
            throw error("unknown statement '\(keyword)'", line: line)
        }
    }

    mutating func parseIf(line: Int) throws -> TemplateNode {
        var branches: [(TemplateExpression, [TemplateNode])] = []
        var condition = try parseExpression()
        try expectBlockEnd()
        while true {
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end {
            case "elif":
                condition = try parseExpression()
                try expectBlockEnd()
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try parseBody(until: ["endif"])
                try expectBlockEnd()
                return .ifBlock(branches, otherwise: otherwise, line: line)
            default:
                try expectBlockEnd()
                return .ifBlock(branches, otherwise: [], line: line)
            }
        }
    }

    mutating func parseFor(line: Int) throws -> TemplateNode {
        let target = try parseAssignTarget(allowAttribute: false)
        try expectName("in")
        let iterable = try parseTuple(withConditional: false)
        var condition: TemplateExpression? = nil
        if isName("if") {
            advance()
            condition = try parseExpression()
        }
        var recursive = false
        if isName("recursive") {
            advance()
            recursive = true
        }
        try expectBlockEnd()
        let (body, end) = try parseBody(until: ["else", "endfor"])
        var otherwise: [TemplateNode] = []
        if end == "else" {
            try expectBlockEnd()
            (otherwise, _) = try parseBody(until: ["endfor"])
        }
        try expectBlockEnd()
        return .forLoop(target: target, iterable: iterable, condition: condition, body: body,
                        otherwise: otherwise, recursive: recursive, line: line)
    }

    mutating func parseSet(line: Int) throws -> TemplateNode {
        let target = try parseAssignTarget()
        if isOp("=") {
            advance()
            let value = try parseTuple()
            try expectBlockEnd()
            return .set(target, value, line: line)
        }
        var filters: [(String, [TemplateArgument])] = []
        if isOp("|") {
            advance()
            filters = try parseFilterChain()
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"])
        try expectBlockEnd()
        return .setBlock(target, filters: filters, body: body, line: line)
    }

    mutating func parseMacro(line: Int) throws -> TemplateNode {
        let name = try expectIdentifier()
        let parameters = try parseParameters()
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endmacro"])
        if case .name = current.kind { advance() }  // {% endmacro name %}
        try expectBlockEnd()
        let definition = MacroDefinition(name: name, parameters: parameters, body: body, line: line)
        return .macro(definition)
    }

    mutating func parseParameters() throws -> [(String, TemplateExpression?)] {
        var parameters: [(String, TemplateExpression?)] = []
        guard isOp("(") else { return parameters }
        advance()
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectIdentifier()
            var defaultValue: TemplateExpression? = nil
            if isOp("=") {
                advance()
                defaultValue = try parseExpression()
            }
            parameters.append((name, defaultValue))
        }
        advance()
        return parameters
    }

    mutating func parseCallBlock(line: Int) throws -> TemplateNode {
        let parameters = isOp("(") ? try parseParameters() : []
        let call = try parseExpression()
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endcall"])
        try expectBlockEnd()
        return .callBlock(call, MacroDefinition(name: "caller", parameters: parameters, body: body, line: line), line: line)
    }

    /// `name(args) | name(args) ...` after `{% filter` or `{% set x |`.
    mutating func parseFilterChain() throws -> [(String, [TemplateArgument])] {
        var filters: [(String, [TemplateArgument])] = []
        repeat {
            if !filters.isEmpty { advance() }
            var name = try expectIdentifier()
            while isOp(".") {
                advance()
                name += "." + (try expectIdentifier())
            }
            let arguments = isOp("(") ? try parseCallArguments() : []
            filters.append((name, arguments))
        } while isOp("|")
        return filters
    }

    /// `name`, `a, b`, `(a, b)` or (for `set`) `namespace.attribute`.
    mutating func parseAssignTarget(allowAttribute: Bool = true) throws -> TemplateTarget {
        var targets: [TemplateTarget] = []
        var parenthesized = false
        if isOp("(") {
            advance()
            parenthesized = true
        }
        repeat {
            if !targets.isEmpty { advance() }
            if parenthesized && isOp(")") { break }
            let name = try expectIdentifier()
            if allowAttribute && isOp(".") {
                advance()
                targets.append(.attribute(name, try expectIdentifier()))
            } else {
                targets.append(.name(name))
            }
        } while isOp(",")
        if parenthesized { try expectOp(")") }
        if targets.count == 1 && !parenthesized { return targets[0] }
        return .tuple(targets)
    }
}

