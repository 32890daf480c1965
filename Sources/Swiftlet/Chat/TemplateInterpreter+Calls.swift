import Foundation

/// Calls: macros, the global functions templates use, and bound methods.
extension TemplateInterpreter {
    func callValue(_ function: TemplateValue, _ positional: [TemplateValue], _ keywords: [(String, TemplateValue)],
                   description: String) throws -> TemplateValue {
        guard case .object(let object) = function else {
            if function.isUndefined { throw TemplateFailure(.undefined, "'\(description)' is undefined") }
            throw TemplateFailure(.type, "'\(function.typeName)' object is not callable")
        }
        switch object.kind {
        case .macro(let definition, let definingScope):
            return try callMacro(definition, definingScope, positional, keywords)
        case .builtin(let name):
            return try callBuiltin(name, positional, keywords)
        case .boundMethod(let receiver, let name):
            return try callMethod(receiver, name, positional, keywords)
        case .cycler(let items):
            let index = object.attributes["index"]?.integerValue ?? 0
            object.attributes["index"] = .int((index + 1) % max(1, items.count))
            return items.isEmpty ? .none : items[index]
        case .namespace, .loop, .generator:
            throw TemplateFailure(.type, "'\(function.typeName)' object is not callable")
        }
    }

    func callMacro(_ definition: MacroDefinition, _ definingScope: Scope, _ positional: [TemplateValue],
                   _ keywords: [(String, TemplateValue)]) throws -> TemplateValue {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > limits.maxRecursionDepth {
            throw TemplateFailure(.limit, "macro calls nested deeper than \(limits.maxRecursionDepth) (TemplateLimits.maxRecursionDepth)")
        }
        let outer = scope
        defer { scope = outer }
        scope = Scope(parent: definingScope)
        var remainingKeywords = keywords
        for (index, (name, defaultExpression)) in definition.parameters.enumerated() {
            if index < positional.count {
                if remainingKeywords.contains(where: { $0.0 == name }) {
                    throw TemplateFailure(.type, "macro '\(definition.name)' got multiple values for argument '\(name)'")
                }
                scope.variables[name] = positional[index]
            } else if let k = remainingKeywords.firstIndex(where: { $0.0 == name }) {
                scope.variables[name] = remainingKeywords[k].1
                remainingKeywords.remove(at: k)
            } else if let defaultExpression {
                scope.variables[name] = try evaluate(defaultExpression)
            } else {
                scope.variables[name] = .undefined
            }
        }
        if let k = remainingKeywords.firstIndex(where: { $0.0 == "caller" }) {
            scope.variables["caller"] = remainingKeywords[k].1
            remainingKeywords.remove(at: k)
        }
        scope.variables["varargs"] = .array(Array(positional.dropFirst(definition.parameters.count)))
        scope.variables["kwargs"] = .dictionary(TemplateDictionary(remainingKeywords))
        let text = try capture { _ = try execute(definition.body) }
        return .string(text)
    }

    func argument(_ positional: [TemplateValue], _ keywords: [(String, TemplateValue)], _ index: Int, _ name: String) -> TemplateValue? {
        if index < positional.count { return positional[index] }
        return keywords.first { $0.0 == name }?.1
    }

    func callBuiltin(_ name: String, _ positional: [TemplateValue], _ keywords: [(String, TemplateValue)]) throws -> TemplateValue {
        switch name {
        case "raise_exception":
            let message = argument(positional, keywords, 0, "message")?.pythonString ?? ""
            throw TemplateFailure(.raised, message)
        case "strftime_now":
            guard case .string(let format)? = argument(positional, keywords, 0, "format") else {
                throw TemplateFailure(.type, "strftime_now() needs a format string")
            }
            return .string(TemplateStrftime.format(now(), format))
        case "namespace":
            let object = TemplateObject(.namespace)
            if case .dictionary(let d)? = positional.first { for (k, v) in d.pairs { object.attributes[k] = v } }
            for (k, v) in keywords { object.attributes[k] = v }
            return .object(object)
        case "dict":
            var d = TemplateDictionary()
            if case .dictionary(let initial)? = positional.first { d = initial }
            for (k, v) in keywords { d[k] = v }
            return .dictionary(d)
        case "cycler":
            return .object(TemplateObject(.cycler(positional)))
        case "joiner":
            // joiner(sep) returns "" the first time, then sep; modelled as a cycler.
            let separator = argument(positional, keywords, 0, "sep") ?? .string(", ")
            let object = TemplateObject(.cycler([.string(""), separator]))
            return .object(object)
        case "range":
            let ints = try positional.map { v -> Int in
                guard let i = v.integerValue else { throw TemplateFailure(.type, "range() needs integers, not '\(v.typeName)'") }
                return i
            }
            var start = 0, stop = 0, step = 1
            switch ints.count {
            case 1: stop = ints[0]
            case 2: (start, stop) = (ints[0], ints[1])
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw TemplateFailure(.type, "range expected 1 to 3 arguments, got \(ints.count)")
            }
            if step == 0 { throw TemplateFailure(.type, "range() arg 3 must not be zero") }
            let estimate = ((Double(stop) - Double(start)) / Double(step)).rounded(.up)
            if estimate > Double(limits.maxLoopIterations) {
                throw TemplateFailure(.limit, "range of more than \(limits.maxLoopIterations) items exceeds TemplateLimits.maxLoopIterations (\(limits.maxLoopIterations))")
            }
            let count = max(0, Int(estimate))
            if count > limits.maxLoopIterations {
                throw TemplateFailure(.limit, "range of \(count) items exceeds TemplateLimits.maxLoopIterations (\(limits.maxLoopIterations))")
            }
            return .array(stride(from: start, to: stop, by: step).map { .int($0) })
        default:
            throw TemplateFailure(.type, "'\(name)' is not callable")
        }
    }
}
