import Foundation
import Testing
@testable import Swiftlet

/// Errors carry the template line; sandbox limits end runaway templates quickly with a
/// clear error; undefined values behave as Jinja's default `Undefined`.
@Suite struct ChatTemplateErrorTests {
    func error(_ source: String, context: [String: TemplateValue] = [:], limits: TemplateLimits = .default) -> ChatTemplateError? {
        do {
            _ = try ChatTemplate(source: source).render(context: context, limits: limits)
            return nil
        } catch let error as ChatTemplateError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func syntaxErrorsNameTheirLine() {
        let cases: [(String, Int)] = [
            ("a\nb\n{{ 1 + }}\n", 3),
            ("{% for x in xs %}\n{% endif %}", 2),
            ("line 1\n{% if x %}\nbody", 3),
            ("x\n{{ 'unterminated }}", 2),
            ("{# open comment\n\n", 1),
            ("{{ a }}\n\n{% if %}", 3),
            ("{{ a ! b }}", 1),
            ("one\n{% frobnicate %}", 2),
            ("{% macro m( %}{% endmacro %}", 1),
        ]
        for (source, line) in cases {
            let e = error(source)
            #expect(e?.kind == .syntax, "\(source.debugDescription): \(String(describing: e))")
            #expect(e?.line == line, "\(source.debugDescription): \(String(describing: e))")
        }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(source: "{% if true %}") }
    }

    @Test func raiseExceptionThrowsTheTemplatesMessage() {
        let e = error("a\n\n{%- if true %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}")
        #expect(e?.kind == .raised)
        #expect(e?.message == "Conversation roles must alternate")
        #expect(e?.line == 3)
        #expect(e?.description == "chat template line 3: Conversation roles must alternate")
    }

    @Test func runtimeErrorsNameTheirLine() {
        let e = error("x\n{{ nope.attr }}")
        #expect(e?.kind == .undefined)
        #expect(e?.line == 2)
        #expect(e?.message.contains("nope") == true)
        // Inside a macro, the line is the macro body's, not the call's.
        let m = error("{% macro m() %}\n\n{{ 1 + 'a' }}\n{% endmacro %}\n{{ m() }}")
        #expect(m?.kind == .type)
        #expect(m?.line == 3)
        // A multi-line expression points at the failing part.
        let multi = error("{{ [\n 1,\n nope.x ] }}")
        #expect(multi?.line == 3)
    }

    @Test func undefinedValuesAreEmptyAndFalsyButCannotBeUsed() throws {
        let template = try ChatTemplate(source: "[{{ nope }}|{{ nope | length }}|{% if nope %}t{% else %}f{% endif %}|{{ d.missing }}|{{ d['x'] is defined }}|{{ none.attr }}]")
        #expect(try template.render(context: ["d": ["a": 1]]) == "[|0|f||False|]")
        for source in ["{{ nope.x }}", "{{ nope['x'] }}", "{{ nope() }}", "{{ nope + 1 }}", "{{ -nope }}", "{{ nope < 1 }}",
                       "{{ d.missing.deeper }}", "{{ nope | int }}"] {
            #expect(error(source, context: ["d": [:]])?.kind == .undefined, "\(source)")
        }
    }

    @Test func typeAndSandboxErrors() {
        #expect(error("{{ 1 + 'a' }}")?.kind == .type)
        #expect(error("{{ nope | tojson }}")?.message == "Object of type Undefined is not JSON serializable")
        #expect(error("{% for x in none %}{% endfor %}")?.kind == .type)
        #expect(error("{% set x = 1 %}{% set x.y = 2 %}")?.kind == .type)
        #expect(error("{{ 1 / 0 }}")?.kind == .type)
        #expect(error("{{ xs | foo }}", context: ["xs": [1]])?.message == "no filter named 'foo'")
        // ImmutableSandboxedEnvironment: lists and dicts cannot be changed in place.
        let append = error("{% set l = [] %}{{ l.append(1) }}")
        #expect(append?.kind == .security)
        #expect(append?.message == "access to attribute 'append' of 'list' object is unsafe.")
        #expect(error("{% set d = {} %}{{ d.update({'a': 1}) }}")?.kind == .security)
        // No other files.
        #expect(error("{% include 'other.jinja' %}")?.kind == .security)
        #expect(error("{% extends 'base.jinja' %}")?.kind == .security)
    }

    @Test func loopLimitEndsLongLoops() {
        let clock = ContinuousClock()
        let start = clock.now
        let e = error("{% for i in range(1000) %}{% for j in range(1000) %}{{ '' }}{% endfor %}{% endfor %}",
                      limits: TemplateLimits(maxLoopIterations: 50_000))
        #expect(e?.kind == .limit)
        #expect(e?.message.contains("loop iterations") == true)
        #expect(e?.line == 1)
        #expect(clock.now - start < .seconds(10))
        // range() itself refuses more items than the loop budget.
        #expect(error("{% for i in range(10 ** 15) %}{% endfor %}")?.kind == .limit)
        // Loop filters count too.
        #expect(error("{% for i in range(1000) if i < 0 %}{% endfor %}", limits: TemplateLimits(maxLoopIterations: 100))?.kind == .limit)
    }

    @Test func recursionLimitEndsRunawayMacros() {
        let clock = ContinuousClock()
        let start = clock.now
        let e = error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        #expect(e?.kind == .limit)
        #expect(e?.message.contains("TemplateLimits.maxRecursionDepth") == true)
        #expect(clock.now - start < .seconds(10))
        // Mutual recursion through caller() counts as well.
        #expect(error("{% macro a() %}{% call a() %}x{% endcall %}{% endmacro %}{{ a() }}",
                      limits: TemplateLimits(maxRecursionDepth: 20))?.kind == .limit)
        // Depth within the limit is fine.
        let ok = try? ChatTemplate(source: "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{{ n }}{% endmacro %}{{ f(5) }}")
            .render(context: [:])
        #expect(ok == "012345")
    }

    @Test func outputLimitEndsRunawayOutput() {
        let limits = TemplateLimits(maxOutputBytes: 1 << 20)
        let e = error("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", limits: limits)
        #expect(e?.kind == .limit)
        #expect(e?.message.contains("bytes") == true)
        // Values that double every step stop at the cap, long before memory runs out.
        #expect(error("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")?.kind == .limit)
        #expect(error("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}")?.kind == .limit)
        #expect(error("{{ 'x' * 10 ** 12 }}")?.kind == .limit)
        #expect(error("{{ 'xy' * 2 ** 62 }}")?.kind == .limit)
        #expect(error("{{ [1, 2] * 2 ** 62 }}")?.kind == .limit)
        #expect(error("{{ ([0] * 10 ** 9) | length }}")?.kind == .limit)
        // Output inside macros and set blocks counts too.
        #expect(error("{% set x %}{% for i in range(2000) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}", limits: limits)?.kind == .limit)
    }

    @Test func deeplyNestedSourceIsASyntaxErrorNotACrash() {
        let deep = [
            "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}",
            "{{ " + String(repeating: "not ", count: 5000) + "1 }}",
            "{{ 1" + String(repeating: " + 1", count: 5000) + " }}",
            "{{ x" + String(repeating: " | trim", count: 5000) + " }}",
            "{{ x" + String(repeating: ".a", count: 5000) + " }}",
            "{{ " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + " }}",
            String(repeating: "{% if true %}", count: 5000) + String(repeating: "{% endif %}", count: 5000),
        ]
        for source in deep {
            #expect(error(source)?.kind == .syntax, "\(source.prefix(30))")
        }
    }

    /// Recursion that multiplies the parser's nesting cap (deep blocks inside a recursive
    /// macro) is cut by the run-time nesting cap, not by the stack.
    @Test func runawayNestingEndsWithALimitError() {
        let limits = TemplateLimits(maxLoopIterations: 10_000_000, maxRecursionDepth: 1_000_000)
        let sources = [
            "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(100000) }}",
            "{% macro f(n) %}" + String(repeating: "{% if true %}", count: 150) + "{{ f(n - 1) }}"
                + String(repeating: "{% endif %}", count: 150) + "{% endmacro %}{{ f(100000) }}",
            "{% macro f(n) %}{% for x in [1] %}{% set y %}{% filter trim %}{% call g() %}{{ f(n - 1) }}{% endcall %}"
                + "{% endfilter %}{% endset %}{% endfor %}{% endmacro %}{% macro g() %}{{ caller() }}{% endmacro %}{{ f(100000) }}",
        ]
        for source in sources {
            let e = error(source, limits: limits)
            #expect(e?.kind == .limit, "\(String(describing: e))")
            #expect(e?.message.contains("nest deeper") == true, "\(String(describing: e))")
        }
    }

    /// Rendering at the limits needs little stack: a 512 KiB thread (smaller than any
    /// default) survives maximal macro recursion and maximal expression nesting.
    @Test func limitsFitInASmallStack() async {
        let sources = [
            "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(1000) }}",
            "{{ " + String(repeating: "(", count: 90) + "1" + String(repeating: ")", count: 90) + " }}",
            "{{ 1" + String(repeating: " + 1", count: 190) + " }}",
            String(repeating: "{% if true %}", count: 190) + "x" + String(repeating: "{% endif %}", count: 190),
        ]
        let outcomes = await withCheckedContinuation { (continuation: CheckedContinuation<[String], Never>) in
            let thread = Thread {
                var results: [String] = []
                for source in sources {
                    do {
                        results.append(try ChatTemplate(source: source).render(context: [:]).prefix(20).description)
                    } catch let e as ChatTemplateError {
                        results.append("\(e.kind)")
                    } catch {
                        results.append("\(error)")
                    }
                }
                continuation.resume(returning: results)
            }
            thread.stackSize = 512 << 10
            thread.start()
        }
        #expect(outcomes == ["limit", "1", "191", "x"])
    }
}

/// Extreme numbers give errors, never a trap.
@Suite struct ChatTemplateOverflowTests {
    @Test func extremeNumbersAreErrors() throws {
        let sources = [
            "{{ -(-9223372036854775807 - 1) }}", "{{ (-9223372036854775807 - 1) // -1 }}", "{{ 9223372036854775807 + 1 }}",
            "{{ 9223372036854775807 * 2 }}", "{{ 2 ** 200 }}", "{{ range(-9223372036854775807, 9223372036854775807) | length }}",
            "{{ (-9223372036854775807 - 1) | abs }}", "{{ '{:>99999999999}'.format(1) }}", "{{ 'x' | indent(10 ** 15) }}",
            "{{ 99999999999999999999 }}", "{{ xs | slice(10 ** 15) | list }}",
        ]
        for source in sources {
            #expect(throws: ChatTemplateError.self, "\(source)") {
                try ChatTemplate(source: source).render(context: ["xs": [1, 2]])
            }
        }
        let template = try ChatTemplate(source: "{{ 1e300 | int }} {{ '1e300' | int }} {{ 2.5 | round(10 ** 9) }} {{ (-9223372036854775807 - 1) % -1 }}")
        // Python has unbounded ints (int(1e300) is a 301-digit number); here such values fall back
        // to the filter's default.
        let output = try template.render(context: [:])
        #expect(output == "0 0 2.5 0")
    }
}
