import Foundation

/// Runs a parsed template over a context. One interpreter serves one render: it holds the
/// output buffers and the counters that `TemplateLimits` caps. It touches nothing outside
/// the values it is given (no files, network, environment or imports); the only outside
/// input is the injected clock behind `strftime_now`.
final class TemplateInterpreter {
    enum Flow { case normal, breakLoop, continueLoop }

    let limits: TemplateLimits
    let now: @Sendable () -> Date
    var buffers: [String] = [""]
    var loopIterations = 0
    var callDepth = 0
    var evaluationDepth = 0
    /// Cap on nested expression evaluations and statements at run time (macro recursion
    /// multiplies the parser's static nesting cap); TemplateStack's stack holds this many.
    static let maxEvaluationDepth = 6_000
    let globals: Scope
    var scope: Scope

    init(context: [String: TemplateValue], limits: TemplateLimits, now: @escaping @Sendable () -> Date) {
        self.limits = limits
        self.now = now
        let builtins = Scope(parent: nil)
        for name in Self.builtinNames { builtins.variables[name] = .object(TemplateObject(.builtin(name))) }
        globals = Scope(parent: builtins)
        globals.variables = context
        scope = Scope(parent: globals)
    }

    static let builtinNames = ["range", "namespace", "raise_exception", "strftime_now", "dict", "joiner", "cycler"]

    func render(_ nodes: [TemplateNode]) throws -> String {
        _ = try execute(nodes)
        return buffers[0]
    }

    // MARK: output

    func write(_ text: String) throws {
        buffers[buffers.count - 1] += text
        if buffers[buffers.count - 1].utf8.count > limits.maxOutputBytes {
            throw TemplateFailure(.limit, "output exceeds \(limits.maxOutputBytes) bytes (TemplateLimits.maxOutputBytes)")
        }
    }

    /// Runs `body` into a fresh buffer and returns what it wrote.
    func capture(_ body: () throws -> Void) throws -> String {
        buffers.append("")
        defer { buffers.removeLast() }
        try body()
        return buffers[buffers.count - 1]
    }

    func checkSize(_ count: Int) throws {
        if count > limits.maxOutputBytes {
            throw TemplateFailure(.limit, "a value of \(count) bytes or items exceeds TemplateLimits.maxOutputBytes (\(limits.maxOutputBytes))")
        }
    }

    /// Lists are capped at the loop budget: a longer one could never be iterated anyway.
    func checkCount(_ count: Int) throws {
        if count > limits.maxLoopIterations {
            throw TemplateFailure(.limit, "a list of \(count) items exceeds TemplateLimits.maxLoopIterations (\(limits.maxLoopIterations))")
        }
    }

    func countIteration() throws {
        loopIterations += 1
        if loopIterations > limits.maxLoopIterations {
            throw TemplateFailure(.limit, "more than \(limits.maxLoopIterations) loop iterations (TemplateLimits.maxLoopIterations)")
        }
    }

    // MARK: statements

    func execute(_ nodes: [TemplateNode]) throws -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    func execute(_ node: TemplateNode) throws -> Flow {
        evaluationDepth += 1
        defer { evaluationDepth -= 1 }
        if evaluationDepth > Self.maxEvaluationDepth {
            throw TemplateFailure(.limit, "blocks and macro calls nest deeper than \(Self.maxEvaluationDepth) levels")
        }
        switch node {
        case .text(let text):
            try write(text)
        case .output(let expression, let line):
            try located(line) { try write(try evaluate(expression).pythonString) }
        case .ifBlock(let branches, let otherwise, let line):
            for (condition, body) in branches {
                if try located(line, { try evaluate(condition).isTruthy }) { return try execute(body) }
            }
            return try execute(otherwise)
        case .forLoop(let target, let iterable, let condition, let body, let otherwise, _, let line):
            return try located(line) { try runLoop(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise) }
        case .set(let target, let expression, let line):
            try located(line) { try assign(target, try evaluate(expression)) }
        case .setBlock(let target, let filters, let body, let line):
            try located(line) {
                var value = TemplateValue.string(try capture { _ = try execute(body) })
                for (name, arguments) in filters { value = try applyFilter(name, value, arguments) }
                try assign(target, value)
            }
        case .macro(let definition):
            scope.variables[definition.name] = .object(TemplateObject(.macro(definition, scope)))
        case .callBlock(let call, let definition, let line):
            try located(line) {
                let caller = TemplateValue.object(TemplateObject(.macro(definition, scope)))
                guard case .located(.call(let callee, let arguments), _) = call else {
                    throw TemplateFailure(.syntax, "'call' needs a macro call")
                }
                let function = try evaluate(callee)
                var (positional, keywords) = try evaluateArguments(arguments)
                keywords.append(("caller", caller))
                try write(try callValue(function, positional, keywords, description: describe(callee)).pythonString)
            }
        case .filterBlock(let filters, let body, let line):
            try located(line) {
                var value = TemplateValue.string(try capture { _ = try execute(body) })
                for (name, arguments) in filters { value = try applyFilter(name, value, arguments) }
                try write(value.pythonString)
            }
        case .generation(let body):
            return try execute(body)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// Gives errors raised below a statement the statement's line.
    func located<T>(_ line: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as TemplateFailure {
            throw ChatTemplateError(failure.kind, failure.message, line: line)
        }
    }

    func runLoop(target: TemplateTarget, iterable: TemplateExpression, condition: TemplateExpression?,
                 body: [TemplateNode], otherwise: [TemplateNode]) throws -> Flow {
        let source = try evaluate(iterable)
        if case .none = source { throw TemplateFailure(.type, "'NoneType' object is not iterable") }
        var items = try source.iterated()
        let outer = scope
        defer { scope = outer }
        if let condition {
            var kept: [TemplateValue] = []
            for item in items {
                try countIteration()
                scope = Scope(parent: outer)
                try assign(target, item)
                if try evaluate(condition).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            scope = outer
            return try execute(otherwise)
        }
        let count = items.count
        for (index, item) in items.enumerated() {
            try countIteration()
            let loop = TemplateObject(.loop, attributes: TemplateDictionary([
                ("index", .int(index + 1)), ("index0", .int(index)),
                ("revindex", .int(count - index)), ("revindex0", .int(count - index - 1)),
                ("first", .bool(index == 0)), ("last", .bool(index == count - 1)),
                ("length", .int(count)), ("depth", .int(1)), ("depth0", .int(0)),
                ("previtem", index > 0 ? items[index - 1] : .undefined),
                ("nextitem", index + 1 < count ? items[index + 1] : .undefined),
            ]))
            scope = Scope(parent: outer)
            scope.variables["loop"] = .object(loop)
            try assign(target, item)
            if try execute(body) == .breakLoop { break }
        }
        return .normal
    }

    func assign(_ target: TemplateTarget, _ value: TemplateValue) throws {
        switch target {
        case .name(let name):
            scope.variables[name] = value
        case .attribute(let name, let attribute):
            guard case .object(let object)? = scope.lookup(name), case .namespace = object.kind else {
                throw TemplateFailure(.type, "cannot assign attribute on non-namespace object '\(name)'")
            }
            object.attributes[attribute] = value
        case .tuple(let targets):
            let items = try value.iterated()
            guard items.count == targets.count else {
                throw TemplateFailure(.type, items.count > targets.count
                    ? "too many values to unpack (expected \(targets.count))"
                    : "not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v) }
        }
    }
}
