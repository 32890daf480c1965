/// Jinja's expression grammar, loosest binding first: `a if c else b`, `or`, `and`, `not`,
/// comparisons (`== != < <= > >= in, not in`), `+ -`, `~`, `* / // %`, `**`, unary `- +`,
/// then primaries with postfix `.attr`, `[index]`, `[a:b:c]`, `(call)`, `|filter` and `is test`.
extension TemplateParser {
    /// A comma-separated list of expressions becomes a tuple (`{{ a, b }}`, `set x = 1, 2`).
    mutating func parseTuple(withConditional: Bool = true) throws -> TemplateExpression {
        let startLine = line
        var items: [TemplateExpression] = []
        var sawComma = false
        while true {
            if !items.isEmpty {
                guard isOp(",") else { break }
                advance()
                sawComma = true
                if current.kind == .blockEnd || current.kind == .variableEnd || isOp(")") || isName("in") || isName("if") { break }
            }
            items.append(withConditional ? try parseExpression() : try parseOr())
        }
        if items.count == 1 && !sawComma { return items[0] }
        return .located(.tuple(items), line: startLine)
    }

    mutating func parseExpression() throws -> TemplateExpression {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxNesting { throw error("expression nested too deeply") }
        let value = try parseOr()
        if isName("if") {
            advance()
            let condition = try parseOr()
            var otherwise: TemplateExpression? = nil
            if isName("else") {
                advance()
                otherwise = try parseExpression()
            }
            return .conditional(value, condition: condition, otherwise: otherwise)
        }
        return value
    }

    /// Each link of a left-leaning chain (`a or b or c`, `a + b + c`, `x.y.z`, `x|f|g`) makes
    /// the tree one level deeper; counting links in `depth` bounds the evaluator's recursion.
    mutating func deepen() throws {
        depth += 1
        if depth > Self.maxNesting { throw error("expression nested too deeply") }
    }

    mutating func parseOr() throws -> TemplateExpression {
        let entryDepth = depth
        defer { depth = entryDepth }
        var left = try parseAnd()
        while isName("or") {
            try deepen()
            advance()
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> TemplateExpression {
        let entryDepth = depth
        defer { depth = entryDepth }
        var left = try parseNot()
        while isName("and") {
            try deepen()
            advance()
            left = .and(left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws -> TemplateExpression {
        if isName("not") {
            advance()
            depth += 1
            defer { depth -= 1 }
            if depth > Self.maxNesting { throw error("expression nested too deeply") }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> TemplateExpression {
        let startLine = line
        let left = try parseMath1()
        var operations: [(String, TemplateExpression)] = []
        let entryDepth = depth
        defer { depth = entryDepth }
        while true {
            if operations.count > Self.maxNesting { throw error("comparison chain too long") }
            if case .op(let op) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                advance()
                operations.append((op, try parseMath1()))
            } else if isName("in") {
                advance()
                operations.append(("in", try parseMath1()))
            } else if isName("not"), case .name("in") = tokens[index + 1].kind {
                advance()
                advance()
                operations.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : .located(.compare(left, operations), line: startLine)
    }

    mutating func parseBinaryLevel(_ ops: [String], next: (inout TemplateParser) throws -> TemplateExpression) throws -> TemplateExpression {
        let entryDepth = depth
        defer { depth = entryDepth }
        var left = try next(&self)
        while case .op(let op) = current.kind, ops.contains(op) {
            try deepen()
            let opLine = line
            advance()
            left = .located(.binary(op, left, try next(&self)), line: opLine)
        }
        return left
    }

    mutating func parseMath1() throws -> TemplateExpression {
        try parseBinaryLevel(["+", "-"]) { try $0.parseConcat() }
    }

    mutating func parseConcat() throws -> TemplateExpression {
        try parseBinaryLevel(["~"]) { try $0.parseMath2() }
    }

    mutating func parseMath2() throws -> TemplateExpression {
        try parseBinaryLevel(["*", "/", "//", "%"]) { try $0.parsePow() }
    }

    mutating func parsePow() throws -> TemplateExpression {
        try parseBinaryLevel(["**"]) { try $0.parseUnary() }
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> TemplateExpression {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxNesting { throw error("expression nested too deeply") }
        let startLine = line
        var node: TemplateExpression
        if isOp("-") || isOp("+") {
            let op = isOp("-") ? "-" : "+"
            advance()
            node = .located(.unary(op, try parseUnary(withFilter: false)), line: startLine)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    mutating func parsePrimary() throws -> TemplateExpression {
        let token = current
        switch token.kind {
        case .name(let name):
            advance()
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .located(.name(name), line: token.line)
            }
        case .string(var text):
            advance()
            while case .string(let more) = current.kind {
                text += more
                advance()
            }
            return .literal(.string(text))
        case .integer(let value):
            advance()
            return .literal(.int(value))
        case .float(let value):
            advance()
            return .literal(.double(value))
        case .op("("):
            advance()
            if isOp(")") {
                advance()
                return .tuple([])
            }
            let inner = try parseTuple()
            try expectOp(")")
            return inner
        case .op("["):
            advance()
            var items: [TemplateExpression] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            advance()
            return .list(items)
        case .op("{"):
            advance()
            var items: [(TemplateExpression, TemplateExpression)] = []
            while !isOp("}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                items.append((key, try parseExpression()))
            }
            advance()
            return .located(.dictionary(items), line: token.line)
        default:
            throw error("unexpected \(describe(token))")
        }
    }

    mutating func parsePostfix(_ start: TemplateExpression) throws -> TemplateExpression {
        let entryDepth = depth
        defer { depth = entryDepth }
        var node = start
        while true {
            let opLine = line
            if isOp(".") || isOp("[") || isOp("(") { try deepen() }
            if isOp(".") {
                advance()
                switch current.kind {
                case .name(let name):
                    advance()
                    node = .located(.attribute(node, name), line: opLine)
                case .integer(let i):
                    advance()
                    node = .located(.subscript_(node, .literal(.int(i))), line: opLine)
                default:
                    throw error("expected an attribute name after '.', found \(describe(current))")
                }
            } else if isOp("[") {
                advance()
                node = .located(try parseSubscript(node), line: opLine)
                try expectOp("]")
            } else if isOp("(") {
                node = .located(.call(node, try parseCallArguments()), line: opLine)
            } else {
                return node
            }
        }
    }

    mutating func parseSubscript(_ target: TemplateExpression) throws -> TemplateExpression {
        var start: TemplateExpression? = nil
        if !isOp(":") {
            start = try parseExpression()
            if !isOp(":") { return .subscript_(target, start!) }
        }
        advance()  // ':'
        var stop: TemplateExpression? = nil
        var step: TemplateExpression? = nil
        if !isOp("]") && !isOp(":") { stop = try parseExpression() }
        if isOp(":") {
            advance()
            if !isOp("]") { step = try parseExpression() }
        }
        return .slice(target, start: start, stop: stop, step: step)
    }

    mutating func parseCallArguments() throws -> [TemplateArgument] {
        try expectOp("(")
        var arguments: [TemplateArgument] = []
        while !isOp(")") {
            if !arguments.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if isOp("*") {
                advance()
                arguments.append(TemplateArgument(kind: .splat, value: try parseExpression()))
            } else if isOp("**") {
                advance()
                arguments.append(TemplateArgument(kind: .doubleSplat, value: try parseExpression()))
            } else if case .name(let name) = current.kind, tokens[index + 1].kind == .op("=") {
                advance()
                advance()
                arguments.append(TemplateArgument(kind: .keyword(name), value: try parseExpression()))
            } else {
                arguments.append(TemplateArgument(kind: .positional, value: try parseExpression()))
            }
        }
        advance()
        return arguments
    }

    mutating func parseFilterExpression(_ start: TemplateExpression) throws -> TemplateExpression {
        let entryDepth = depth
        defer { depth = entryDepth }
        var node = start
        while true {
            let opLine = line
            if isOp("|") || isName("is") || isOp("(") { try deepen() }
            if isOp("|") {
                advance()
                var name = try expectIdentifier()
                while isOp(".") {
                    advance()
                    name += "." + (try expectIdentifier())
                }
                let arguments = isOp("(") ? try parseCallArguments() : []
                node = .located(.filter(node, name, arguments), line: opLine)
            } else if isName("is") {
                advance()
                var negated = false
                if isName("not") {
                    advance()
                    negated = true
                }
                var name = try expectIdentifier()
                while isOp(".") {
                    advance()
                    name += "." + (try expectIdentifier())
                }
                var arguments: [TemplateArgument] = []
                if isOp("(") {
                    arguments = try parseCallArguments()
                } else if startsPrimary && !isName("else") && !isName("or") && !isName("and") && !isName("if") {
                    if isName("is") { throw error("you cannot chain multiple tests with 'is'") }
                    let argument = try parsePostfix(try parsePrimary())
                    arguments = [TemplateArgument(kind: .positional, value: argument)]
                }
                node = .located(.test(node, name, arguments, negated: negated), line: opLine)
            } else if isOp("(") {
                node = .located(.call(node, try parseCallArguments()), line: opLine)
            } else {
                return node
            }
        }
    }

    var startsPrimary: Bool {
        switch current.kind {
        case .name, .string, .integer, .float: return true
        case .op(let op): return op == "(" || op == "[" || op == "{"
        default: return false
        }
    }
}
