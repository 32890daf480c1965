import Foundation

/// Expression evaluation: names, attributes, subscripts, slices, calls, operators.
extension TemplateInterpreter {
    /// Evaluates an expression. Each case body lives in its own small method so that deep
    /// (but capped) nesting uses little stack per level, even in debug builds.
    func evaluate(_ expression: TemplateExpression) throws -> TemplateValue {
        evaluationDepth += 1
        defer { evaluationDepth -= 1 }
        if evaluationDepth > Self.maxEvaluationDepth {
            throw TemplateFailure(.limit, "expressions and macro calls nest deeper than \(Self.maxEvaluationDepth) levels")
        }
        switch expression {
        case .literal(let value):
            return value
        case .name(let name):
            return scope.lookup(name) ?? .undefined
        case .list(let items), .tuple(let items):
            return .array(try items.map { try evaluate($0) })
        case .dictionary(let items):
            return try evaluateDictionary(items)
        case .attribute(let target, let name):
            return try evaluateAttribute(target, name)
        case .subscript_(let target, let key):
            return try evaluateSubscript(target, key)
        case .slice(let target, let start, let stop, let step):
            return try evaluateSlice(target, start, stop, step)
        case .call(let callee, let arguments):
            return try evaluateCall(callee, arguments)
        case .filter(let target, let name, let arguments):
            return try evaluateFilter(target, name, arguments)
        case .test(let target, let name, let arguments, let negated):
            return try evaluateTest(target, name, arguments, negated)
        case .unary(let op, let operand):
            return try evaluateUnary(op, operand)
        case .binary(let op, let left, let right):
            return try evaluateBinary(op, left, right)
        case .compare(let first, let operations):
            return try evaluateCompare(first, operations)
        case .and(let left, let right):
            let a = try evaluate(left)
            return a.isTruthy ? try evaluate(right) : a
        case .or(let left, let right):
            let a = try evaluate(left)
            return a.isTruthy ? a : try evaluate(right)
        case .not(let operand):
            return .bool(!(try evaluate(operand).isTruthy))
        case .conditional(let value, let condition, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(value) }
            return try otherwise.map { try evaluate($0) } ?? .undefined
        case .located(let inner, let line):
            return try evaluateLocated(inner, line)
        }
    }

    func evaluateLocated(_ inner: TemplateExpression, _ line: Int) throws -> TemplateValue {
        do {
            return try evaluate(inner)
        } catch let failure as TemplateFailure {
            throw ChatTemplateError(failure.kind, failure.message, line: line)
        }
    }

    func evaluateDictionary(_ items: [(TemplateExpression, TemplateExpression)]) throws -> TemplateValue {
        var dictionary = TemplateDictionary()
        for (key, value) in items {
            let k = try evaluate(key)
            dictionary[k] = try evaluate(value)
        }
        return .dictionary(dictionary)
    }

    func evaluateAttribute(_ target: TemplateExpression, _ name: String) throws -> TemplateValue {
        let value = try evaluate(target)
        if value.isUndefined { throw undefinedError(target) }
        return attribute(of: value, name)
    }

    func evaluateSubscript(_ target: TemplateExpression, _ key: TemplateExpression) throws -> TemplateValue {
        let value = try evaluate(target)
        if value.isUndefined { throw undefinedError(target) }
        return try item(of: value, try evaluate(key))
    }

    func evaluateSlice(_ target: TemplateExpression, _ start: TemplateExpression?, _ stop: TemplateExpression?,
                       _ step: TemplateExpression?) throws -> TemplateValue {
        let value = try evaluate(target)
        if value.isUndefined { throw undefinedError(target) }
        return try slice(value, start: start.map { try evaluate($0) }, stop: stop.map { try evaluate($0) },
                         step: step.map { try evaluate($0) })
    }

    func evaluateCall(_ callee: TemplateExpression, _ arguments: [TemplateArgument]) throws -> TemplateValue {
        let function = try evaluate(callee)
        let (positional, keywords) = try evaluateArguments(arguments)
        return try callValue(function, positional, keywords, description: describe(callee))
    }

    func evaluateFilter(_ target: TemplateExpression?, _ name: String, _ arguments: [TemplateArgument]) throws -> TemplateValue {
        let value = try target.map { try evaluate($0) } ?? .undefined
        return try applyFilter(name, value, arguments)
    }

    func evaluateTest(_ target: TemplateExpression, _ name: String, _ arguments: [TemplateArgument], _ negated: Bool) throws -> TemplateValue {
        let value = try evaluate(target)
        let (positional, _) = try evaluateArguments(arguments)
        let result = try applyTest(name, value, positional)
        return .bool(negated ? !result : result)
    }

    func evaluateUnary(_ op: String, _ operand: TemplateExpression) throws -> TemplateValue {
        let value = try evaluate(operand)
        if value.isUndefined { throw undefinedError(operand) }
        switch (op, value) {
        case ("-", .int(let i)):
            let (negated, overflow) = Int(0).subtractingReportingOverflow(i)
            if overflow { throw TemplateFailure(.type, "integer overflow in unary -") }
            return .int(negated)
        case ("-", .double(let d)): return .double(-d)
        case ("-", .bool(let b)): return .int(b ? -1 : 0)
        case ("+", .int), ("+", .double): return value
        case ("+", .bool(let b)): return .int(b ? 1 : 0)
        default: throw TemplateFailure(.type, "bad operand type for unary \(op): '\(value.typeName)'")
        }
    }

    func evaluateBinary(_ op: String, _ left: TemplateExpression, _ right: TemplateExpression) throws -> TemplateValue {
        let a = try evaluate(left)
        let b = try evaluate(right)
        if op == "~" {
            let text = a.pythonString + b.pythonString
            try checkSize(text.utf8.count)
            return .string(text)
        }
        if a.isUndefined { throw undefinedError(left) }
        if b.isUndefined { throw undefinedError(right) }
        if op == "+", case .string(let x) = a, case .string(let y) = b {
            // Markup (`'...'|safe`) + str escapes the str, as markupsafe does.
            let (safeLeft, safeRight) = (isMarkup(left), isMarkup(right))
            if safeLeft != safeRight {
                let text = safeLeft ? x + escapeHTML(y) : escapeHTML(x) + y
                try checkSize(text.utf8.count)
                return .string(text)
            }
        }
        return try arithmetic(op, a, b)
    }

    func evaluateCompare(_ first: TemplateExpression, _ operations: [(String, TemplateExpression)]) throws -> TemplateValue {
        var left = try evaluate(first)
        for (op, rightExpression) in operations {
            let right = try evaluate(rightExpression)
            if !(try compare(op, left, right)) { return .bool(false) }
            left = right
        }
        return .bool(true)
    }

    /// Whether an expression yields markupsafe's `Markup` in Jinja (`|safe`, `|escape`, and
    /// sums and trims of those); tracked syntactically, for the `+` escaping above.
    func isMarkup(_ expression: TemplateExpression) -> Bool {
        switch expression {
        case .located(let inner, _): return isMarkup(inner)
        case .filter(let target, let name, _):
            if ["safe", "escape", "e", "forceescape"].contains(name) { return true }
            if ["trim", "string", "indent"].contains(name) { return target.map { isMarkup($0) } ?? false }
            return false
        case .binary("+", let l, let r): return isMarkup(l) || isMarkup(r)
        default: return false
        }
    }

    func undefinedError(_ expression: TemplateExpression) -> TemplateFailure {
        TemplateFailure(.undefined, "'\(describe(expression))' is undefined")
    }

    func evaluateArguments(_ arguments: [TemplateArgument]) throws -> ([TemplateValue], [(String, TemplateValue)]) {
        var positional: [TemplateValue] = []
        var keywords: [(String, TemplateValue)] = []
        for argument in arguments {
            let value = try evaluate(argument.value)
            switch argument.kind {
            case .positional: positional.append(value)
            case .keyword(let name): keywords.append((name, value))
            case .splat: positional += try value.iterated()
            case .doubleSplat:
                guard case .dictionary(let d) = value else { throw TemplateFailure(.type, "argument after ** must be a mapping") }
                keywords += d.pairs
            }
        }
        return (positional, keywords)
    }

    /// `value.name`: a dictionary's method or key, a string's or list's method, a namespace
    /// or loop field; undefined when absent.
    func attribute(of value: TemplateValue, _ name: String) -> TemplateValue {
        switch value {
        case .dictionary(let d):
            if Self.dictionaryMethods.contains(name) { return .object(TemplateObject(.boundMethod(value, name))) }
            return d[name] ?? .undefined
        case .string:
            if Self.stringMethods.contains(name) { return .object(TemplateObject(.boundMethod(value, name))) }
            return .undefined
        case .array:
            if Self.listMethods.contains(name) { return .object(TemplateObject(.boundMethod(value, name))) }
            return .undefined
        case .object(let object):
            if case .loop = object.kind, name == "cycle" { return .object(TemplateObject(.boundMethod(value, name))) }
            if case .macro(let definition, _) = object.kind, name == "name" { return .string(definition.name) }
            return object.attributes[name] ?? .undefined
        default:
            return .undefined
        }
    }

    /// `value[key]`: Jinja tries the item first, then (for a string key) the attribute.
    func item(of value: TemplateValue, _ key: TemplateValue) throws -> TemplateValue {
        switch (value, key) {
        case (.dictionary(let d), _):
            if let found = d[key] { return found }
        case (.array(let a), _):
            if let i = key.integerValue {
                let index = i < 0 ? a.count + i : i
                return a.indices.contains(index) ? a[index] : .undefined
            }
        case (.string(let s), _):
            if let i = key.integerValue {
                let scalars = Array(s.unicodeScalars)
                let index = i < 0 ? scalars.count + i : i
                return scalars.indices.contains(index) ? .string(String(scalars[index])) : .undefined
            }
        default:
            break
        }
        if case .string(let name) = key { return attribute(of: value, name) }
        return .undefined
    }

    func slice(_ value: TemplateValue, start: TemplateValue?, stop: TemplateValue?, step: TemplateValue?) throws -> TemplateValue {
        func bound(_ v: TemplateValue?) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            guard let i = v.integerValue else { throw TemplateFailure(.type, "slice indices must be integers or None") }
            return i
        }
        let stepValue = try bound(step) ?? 1
        if stepValue == 0 { throw TemplateFailure(.type, "slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            var lower = try bound(start)
            var upper = try bound(stop)
            if stepValue > 0 {
                lower = lower.map { $0 < 0 ? max(0, count + $0) : min($0, count) } ?? 0
                upper = upper.map { $0 < 0 ? max(0, count + $0) : min($0, count) } ?? count
                return Array(stride(from: lower!, to: upper!, by: stepValue))
            } else {
                lower = lower.map { $0 < 0 ? max(-1, count + $0) : min($0, count - 1) } ?? count - 1
                upper = upper.map { $0 < 0 ? max(-1, count + $0) : min($0, count - 1) } ?? -1
                return Array(stride(from: lower!, to: upper!, by: stepValue))
            }
        }
        switch value {
        case .array(let a):
            return .array(try indices(a.count).map { a[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .none:
            throw TemplateFailure(.type, "'NoneType' object is not subscriptable")
        default:
            return .undefined
        }
    }

    func compare(_ op: String, _ a: TemplateValue, _ b: TemplateValue) throws -> Bool {
        switch op {
        case "==": return a.pythonEquals(b)
        case "!=": return !a.pythonEquals(b)
        case "in": return try contains(b, a)
        case "not in": return !(try contains(b, a))
        default:
            if a.isUndefined || b.isUndefined { throw TemplateFailure(.undefined, "an undefined value cannot be compared with '\(op)'") }
            let less: Bool?
            switch op {
            case "<": less = a.pythonLess(b)
            case ">": less = b.pythonLess(a)
            case "<=": less = b.pythonLess(a).map { !$0 }
            default: less = a.pythonLess(b).map { !$0 }
            }
            guard let less else {
                throw TemplateFailure(.type, "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
            }
            return less
        }
    }

    /// Python's `needle in container`.
    func contains(_ container: TemplateValue, _ needle: TemplateValue) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let n) = needle else {
                if needle.isUndefined { return false }
                throw TemplateFailure(.type, "'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return n.isEmpty || s.contains(n)
        case .array(let a): return a.contains { $0.pythonEquals(needle) }
        case .dictionary(let d):
            return d[needle] != nil
        case .undefined: return false
        case .object(let o):
            if case .generator(let items) = o.kind { return items.contains { $0.pythonEquals(needle) } }
            if case .namespace = o.kind, case .string(let key) = needle { return o.attributes[key] != nil }
            throw TemplateFailure(.type, "argument of type '\(container.typeName)' is not iterable")
        default:
            throw TemplateFailure(.type, "argument of type '\(container.typeName)' is not iterable")
        }
    }

    func arithmetic(_ op: String, _ a: TemplateValue, _ b: TemplateValue) throws -> TemplateValue {
        func typeError() -> TemplateFailure {
            TemplateFailure(.type, "unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case "+":
            switch (a, b) {
            case (.string(let x), .string(let y)):
                try checkSize(x.utf8.count + y.utf8.count)
                return .string(x + y)
            case (.array(let x), .array(let y)):
                try checkCount(x.count + y.count)
                return .array(x + y)
            default: break
            }
        case "*":
            switch (a, b) {
            case (.string(let s), _), (_, .string(let s)):
                guard let n = (a.integerValue ?? b.integerValue) else { throw typeError() }
                let (bytes, overflow) = s.utf8.count.multipliedReportingOverflow(by: max(0, n))
                try checkSize(overflow ? Int.max : bytes)
                return .string(String(repeating: s, count: max(0, n)))
            case (.array(let x), _), (_, .array(let x)):
                guard let n = (a.integerValue ?? b.integerValue) else { throw typeError() }
                let (items, overflow) = x.count.multipliedReportingOverflow(by: max(0, n))
                try checkCount(overflow ? Int.max : items)
                return .array(Array(repeating: x, count: max(0, n)).flatMap { $0 })
            default: break
            }
        case "%":
            if case .string(let format) = a { return .string(try TemplateStringFormat.percent(format, b)) }
        default: break
        }
        if let x = a.integerValue, let y = b.integerValue {
            switch op {
            case "+": let (r, o) = x.addingReportingOverflow(y); if !o { return .int(r) }
            case "-": let (r, o) = x.subtractingReportingOverflow(y); if !o { return .int(r) }
            case "*": let (r, o) = x.multipliedReportingOverflow(by: y); if !o { return .int(r) }
            case "/":
                if y == 0 { throw TemplateFailure(.type, "division by zero") }
                return .double(Double(x) / Double(y))
            case "//":
                if y == 0 { throw TemplateFailure(.type, "integer division or modulo by zero") }
                if y == -1 && x == Int.min { throw TemplateFailure(.type, "integer overflow in '//'") }
                let q = x / y
                return .int((x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q)
            case "%":
                if y == 0 { throw TemplateFailure(.type, "integer division or modulo by zero") }
                if y == -1 { return .int(0) }
                let r = x % y
                return .int(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
            case "**":
                if y >= 0 {
                    var result = 1
                    for _ in 0..<min(y, 64) {
                        let (r, o) = result.multipliedReportingOverflow(by: x)
                        if o { throw TemplateFailure(.limit, "integer power too large") }
                        result = r
                    }
                    if y > 64 && abs(x) > 1 { throw TemplateFailure(.limit, "integer power too large") }
                    return .int(y > 64 ? (x == -1 && y % 2 == 1 ? -1 : (x == 0 ? 0 : 1)) : result)
                }
                return .double(pow(Double(x), Double(y)))
            default: break
            }
            throw TemplateFailure(.type, "integer overflow in '\(op)'")
        }
        if let x = a.numericValue, let y = b.numericValue {
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            case "/":
                if y == 0 { throw TemplateFailure(.type, "float division by zero") }
                return .double(x / y)
            case "//":
                if y == 0 { throw TemplateFailure(.type, "float floor division by zero") }
                return .double((x / y).rounded(.down))
            case "%":
                if y == 0 { throw TemplateFailure(.type, "float modulo") }
                let r = x.truncatingRemainder(dividingBy: y)
                return .double(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
            case "**": return .double(pow(x, y))
            default: break
            }
        }
        throw typeError()
    }

    /// A short source-like rendering of an expression, for error messages.
    func describe(_ expression: TemplateExpression) -> String {
        switch expression {
        case .name(let n): return n
        case .literal(let v): return v.pythonRepr
        case .attribute(let t, let n): return describe(t) + "." + n
        case .subscript_(let t, let k): return describe(t) + "[" + describe(k) + "]"
        case .slice(let t, _, _, _): return describe(t) + "[...]"
        case .call(let t, _): return describe(t) + "(...)"
        case .filter(let t, let n, _): return (t.map { describe($0) } ?? "") + "|" + n
        case .located(let inner, _): return describe(inner)
        default: return "expression"
        }
    }
}
