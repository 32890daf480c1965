import Foundation
import Testing
@testable import Swiftlet

/// The Jinja language features chat templates use, each checked against the output of
/// Jinja2 3.1.6 with HuggingFace's settings (trim_blocks, lstrip_blocks, HF's tojson), which
/// rendered every expected string below from the same template and context.
@Suite struct ChatTemplateLanguageTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let source: String
        let expected: String
        init(_ source: String, _ expected: String) {
            self.source = source
            self.expected = expected
        }
        var testDescription: String { String(source.prefix(60)) }
    }

    static let contextJSON = "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \" Hi \"}, {\"role\": \"assistant\", \"content\": \"Yo\"}], \"d\": {\"b\": 2, \"a\": 1, \"C\": 3}, \"xs\": [3, 1, 2], \"s\": \"  Hello World  \", \"n\": null, \"t\": true, \"people\": [{\"name\": \"Ann\", \"age\": 30}, {\"name\": \"bob\", \"age\": 25}, {\"name\": \"Cy\", \"age\": 30}]}"

    /// 2026-03-14 09:26:53 in the local time zone (strftime_now uses local time, as Python's datetime.now()).
    static let fixedDate: Date = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        return calendar.date(from: DateComponents(year: 2026, month: 3, day: 14, hour: 9, minute: 26, second: 53))!
    }()

    static func render(_ source: String, limits: TemplateLimits = .default) throws -> String {
        guard case .dictionary(let given) = try TemplateValue(json: contextJSON) else { fatalError("context is not a mapping") }
        var context: [String: TemplateValue] = ["bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": true]
        for (name, value) in given.pairs { context[name] = value }
        var template = try ChatTemplate(source: source)
        template.now = { fixedDate }
        return try template.render(context: context, limits: limits)
    }

    static let cases: [Case] = [
        Case("a  {%- if true %} b {% endif -%}  c",
             "a b c"),
        Case("line1\n  {% if true %}\n  x\n  {% endif %}\nend",
             "line1\n  x\nend"),
        Case("{{ 'x' }}\n{# c #}\ny\n",
             "x\ny"),
        Case("hi\n\n",
             "hi\n"),
        Case("  {{- 'a' -}}  |",
             "a|"),
        Case("  {%+ if true %}x{% endif %}",
             "  x"),
        Case("a\n    {# comment #}\nb",
             "a\nb"),
        Case("{% raw %}{{ not parsed }}{% endraw %}",
             "{{ not parsed }}"),
        Case("{% for m in messages %}\n{{ m.role }}\n{% endfor %}\n",
             "system\nuser\nassistant\n"),
        Case("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }},{% endfor %}",
             "103TrueFalse3,212FalseFalse3,321FalseTrue3,"),
        Case("{% for x in xs %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }};{% endfor %}",
             "<3>1;3<1>2;1<2>;"),
        Case("{% for x in xs if x > 1 %}{{ x }}:{{ loop.length }} {% else %}none{% endfor %}",
             "3:2 2:2 "),
        Case("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}",
             "empty"),
        Case("{% for x in xs %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}",
             "3"),
        Case("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
             "b=2;a=1;C=3;"),
        Case("{% for k in d %}{{ k }}{% endfor %}",
             "baC"),
        Case("{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{% endfor %}",
             "1x1 1y2 2x1 2y2 "),
        Case("{% for m in messages %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
             "odd even odd "),
        Case("{% if n %}a{% elif t and not n %}b{% else %}c{% endif %}",
             "b"),
        Case("{% set x = 1 %}{% for i in xs %}{% set x = i %}{% endfor %}{{ x }}",
             "1"),
        Case("{% set ns = namespace(x=1, items=[]) %}{% for i in xs %}{% set ns.x = ns.x + i %}{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.x }} {{ ns.items }}",
             "7 [3, 1, 2]"),
        Case("{% set a, b = 1, 2 %}{{ a }}{{ b }}",
             "12"),
        Case("{% set x %}  hi {{ 1 + 1 }}  {% endset %}[{{ x }}][{{ x | trim }}]",
             "[  hi 2  ][hi 2]"),
        Case("{% set x | upper %}hi{% endset %}{{ x }}",
             "HI"),
        Case("{% filter upper %}abc{{ 'd' }}{% endfilter %}",
             "ABCD"),
        Case("{% macro m(a, b='B') %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, b=2) }} {{ m(b=3, a=4) }}",
             "1-B 1-2 4-3"),
        Case("{% macro m(a) %}{{ a }}{{ varargs | list }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}",
             "1[2, 3]{'k': 4}"),
        Case("{% macro w(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call w('b') %}in{% endcall %}",
             "<b>in</b>"),
        Case("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}",
             "120"),
        Case("{% set g = 'G' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}",
             "G"),
        Case("{{ s | trim }}|{{ s | length }}|{{ xs | count }}|{{ s | upper }}|{{ s | lower }}|{{ 'hello wORLD-x(y' | title }}|{{ 'hELLO' | capitalize }}",
             "Hello World|15|3|  HELLO WORLD  |  hello world  |Hello World-X(Y|Hello"),
        Case("{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }}",
             "bbb bba"),
        Case("{{ n | default('x') }} {{ nope | default('x') }} {{ '' | default('x', true) }} {{ nope | d('y') }}",
             "None x x y"),
        Case("{{ xs | join(', ') }} {{ people | join('/', attribute='name') }} {{ xs | first }} {{ xs | last }} {{ 'abc' | list }}",
             "3, 1, 2 Ann/bob/Cy 3 2 ['a', 'b', 'c']"),
        Case("{{ 42 | string }} {{ '42' | int + 1 }} {{ '4.5' | float }} {{ 'x' | int }} {{ 3.9 | int }} {{ '0x1A' | int(0, 16) }}",
             "42 43 4.5 0 3 26"),
        Case("{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %} {% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %} {% for k, v in d | dictsort(reverse=true) %}{{ k }}{{ v }}{% endfor %} {% for p in d | dictsort(by='value') %}{{ p[0] }}{% endfor %} {{ d | items | first | list }}",
             "b2a1C3 a1b2C3 C3b2a1 abC ['b', 2]"),
        Case("{{ people | selectattr('age', 'equalto', 30) | map(attribute='name') | list }} {{ people | rejectattr('age', 'eq', 30) | list }}",
             "['Ann', 'Cy'] [{'name': 'bob', 'age': 25}]"),
        Case("{{ xs | select('odd') | list }} {{ xs | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }}",
             "[3, 1] [2] [1, 'a']"),
        Case("{{ [1, 2, 1, 'A', 'a'] | unique | list }} {{ xs | sort }} {{ xs | sort(reverse=true) }} {{ people | sort(attribute='name') | map(attribute='name') | join(',') }}",
             "[1, 2, 'A'] [1, 2, 3] [3, 2, 1] Ann,bob,Cy"),
        Case("{{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }}",
             "['A', 'b', 'c'] ['A', 'b', 'c']"),
        Case("{{ '<a href=\"x\">&\\'' | escape }} {{ '<b>' | safe }} {{ '<b>' | e }}",
             "&lt;a href=&#34;x&#34;&gt;&amp;&#39; <b> &lt;b&gt;"),
        Case("{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'a\\nb' | indent('> ') }}",
             "a\n  b\n\n  c|  a\n  b|a\n  \n  b|a\n> b"),
        Case("{{ 'one two  three' | wordcount }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ xs | min }} {{ xs | max }} {{ xs | sum }}",
             "3 3 2.57 2.0 1 3 6"),
        Case("{{ xs | reverse | list }} {{ 'abc' | reverse }} {{ [1,2,3,4,5] | batch(2) | list }} {{ people | map(attribute='missing', default='?') | list }}",
             "[2, 1, 3] cba [[1, 2], [3, 4], [5]] ['?', '?', '?']"),
        Case("{{ d | tojson }} {{ xs | tojson }} {{ 'é\"\\n<' | tojson }} {{ none | tojson }} {{ 1.5 | tojson }} {{ true | tojson }}",
             "{\"b\": 2, \"a\": 1, \"C\": 3} [3, 1, 2] \"é\\\"\\n<\" null 1.5 true"),
        Case("{{ people[0] | tojson(indent=2) }}|{{ {} | tojson(indent=2) }}|{{ [[]] | tojson(indent=2) }}",
             "{\n  \"name\": \"Ann\",\n  \"age\": 30\n}|{}|[\n  []\n]"),
        Case("{{ d | tojson(sort_keys=true) }} {{ d | tojson(separators=(',', ':')) }} {{ 'é' | tojson(ensure_ascii=true) }}",
             "{\"C\": 3, \"a\": 1, \"b\": 2} {\"b\":2,\"a\":1,\"C\":3} \"\\u00e9\""),
        Case("{{ xs | map('string') | join('-') }} {{ ['a', 'b'] | map('upper') | list }}",
             "3-1-2 ['A', 'B']"),
        Case("{{ nope is defined }}{{ nope is undefined }}{{ n is none }}{{ 's' is string }}{{ 1 is number }}{{ 1.5 is number }}{{ d is mapping }}{{ xs is iterable }}{{ 's' is sequence }}{{ t is boolean }}{{ t is true }}{{ t is false }}",
             "FalseTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueFalse"),
        Case("{{ 1 is equalto 1 }}{{ 'a' is eq 'b' }}{{ 2 is in xs }}{{ 9 is in xs }}{{ 6 is divisibleby 3 }}{{ 3 is odd }}{{ 3 is even }}{{ n is not none }}{{ xs is sequence }}{{ d is iterable }}{{ 1 is string }}",
             "TrueFalseTrueFalseTrueTrueFalseFalseTrueTrueFalse"),
        Case("{{ nope | sum }}{{ nope | wordcount }}{{ nope | unique | list }}{{ nope | map('upper') | list }}{{ nope | count }}{{ nope is iterable }}{{ nope is mapping }}{{ t is number }}{{ 1 is integer }}{{ 1.0 is float }}",
             "00[][]0TrueFalseTrueTrueTrue"),
        Case("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' and 'z' }} {{ not 0 }} {{ 1 in xs }} {{ 9 not in xs }} {{ 'ell' in 'hello' }} {{ 'a' in d }} {{ 'zz' not in d }}",
             "x y  True True True True True True"),
        Case("{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 2 >= 2 }} {{ 1 != 1.0 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }}",
             "True False True False True True True"),
        Case("{{ 7 + 2 }} {{ 7 - 2 }} {{ 7 * 2 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ 4 / 2 }}",
             "9 5 14 3.5 3 -4 1 2 1024 0.5 3.0 2.0"),
        Case("{{ 'a' ~ 1 ~ none ~ nope }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ [0] * 3 }} {{ -xs[0] }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 * 3 ** 2 }} {{ -2 ** 2 }}",
             "a1None ababab [1, 2] [0, 0, 0] -3 7 9 18 4"),
        Case("{{ 'yes' if t else 'no' }} {{ 'yes' if n else 'no' }} [{{ 'yes' if n }}]",
             "yes no []"),
        Case("{{ 'a\\tb\\\\c\\'d' }} {{ \"q\\\"q\" }} {{ '\\u00e9\\x41' }} {{ 1_000 }} {{ 1.5e3 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.0 }} {{ 10 / 4 }}",
             "a\tb\\c'd q\"q éA 1000 1500.0 0.30000000000000004 1e+20 1.0 2.5"),
        Case("{{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 'n': [1]} }} {{ (1, 2) | list }} {{ True }} {{ None }} {{ false }} {{ \"it's\" }} {{ ['it\\'s'] }}",
             "[1, 'a', None, True, 1.5] {'k': 'v', 'n': [1]} [1, 2] True None False it's [\"it's\"]"),
        Case("{{ 'con' 'cat' }} {{ ('x',) | length }} {{ () | length }} {{ (1, 2)[1] }}",
             "concat 1 0 2"),
        Case("{{ xs[::-1] }} {{ xs[1:] }} {{ xs[:-1] }} {{ xs[-1] }} {{ xs[0:3:2] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ xs.0 }} {{ d['a'] }} {{ d.b }} {{ xs[10] }}|",
             "[2, 1, 3] [1, 2] [3, 1] 2 [3, 2] el olleh 3 1 2 |"),
        Case("{{ messages[1]['content'] }} {{ messages[-1].role }} {{ d.items | length if false else 'm' }} {{ d['missing'] }}|{{ d.missing }}|{{ n.x }}|",
             " Hi  assistant m |||"),
        Case("[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ 'xxaxx'.strip('x') }}][{{ '--a'.lstrip('-') }}]",
             "[Hello World][Hello World  ][  Hello World][a][a]"),
        Case("{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a b '.split(' ') }}",
             "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] ['a,b', 'c'] ['', 'a', 'b', '']"),
        Case("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ 'aXa'.replace('a', 'b') }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}",
             "True True HI hi bXb Hello World Hello"),
        Case("{{ '{} and {}'.format(1, 'b') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='x') }} {{ '{:>5}|{:<3}|{:^5}|{:05d}|{:.2f}'.format('a', 'b', 'c', 42, 3.14159) }}",
             "1 and b aba x!     a|b  |  c  |00042|3.14"),
        Case("{{ '-'.join(['a', 'b']) }} {{ 'hello'.find('l') }} {{ 'hello'.count('l') }} {{ 'a\\nb'.splitlines() }} {{ '12'.isdigit() }} {{ 'ab'.isalpha() }}",
             "a-b 2 2 ['a', 'b'] True True"),
        Case("{{ '%s is %d' % ('x', 3) }} {{ '%05.1f' % 3.14159 }} {{ '%-4s|' % 'a' }}",
             "x is 3 003.1 a   |"),
        Case("{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 9) }}",
             "b2a1C3 ['b', 'a', 'C'] [2, 1, 3] 1 None 9"),
        Case("{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(3, 0, -1) | list }} {{ dict(a=1) }} {{ strftime_now('%Y-%m-%d %H:%M %b %B %a %A %j %y %p') }}",
             "[0, 1, 2] [1, 3, 5] [3, 2, 1] {'a': 1} 2026-03-14 09:26 Mar March Sat Saturday 073 26 AM"),
        Case("{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|",
             "<s>|</s>|True|"),
        Case("[{{ nope }}][{{ nope | length }}][{{ nope | upper }}][{{ nope | list }}][{{ nope | join(',') }}][{% for x in nope %}x{% endfor %}][{% if nope %}t{% else %}f{% endif %}][{{ nope == nope }}][{{ nope ~ 'x' }}][{{ nope | string }}][{{ nope | trim }}][{{ nope | first }}]",
             "[][0][][[]][][][f][True][x][][][]"),
        Case("[{{ d.missing is defined }}][{{ messages[9] is defined }}][{{ d.missing | default('dflt') }}][{{ 'x' in nope }}]",
             "[False][False][dflt][False]"),
    ]

    @Test(arguments: cases)
    func rendersLikeJinja2(_ testCase: Case) throws {
        let output = try Self.render(testCase.source)
        #expect(output == testCase.expected)
    }
}
