import Foundation
import Testing
@testable import Swiftlet

/// Real models' chat templates (../shared/fixtures/chat-templates) rendered by Swiftlet must
/// be byte-identical to Jinja2 3.1.6 with HuggingFace's settings
/// (Tests/Fixtures/chat/make_expected.py wrote Tests/Fixtures/chat/expected.json).
@Suite struct ChatTemplateFixtureTests {
    struct Expected: Decodable {
        struct Settings: Decodable { let bos_token: String; let eos_token: String; let now: String }
        let settings: Settings
        let cases: [String: [ChatMessage]]
        let expected: [String: [String: String]]
    }

    static let templatesDirectory = SharedFixtures.directory.appendingPathComponent("chat-templates")
    static var available: Bool { FileManager.default.fileExists(atPath: templatesDirectory.path) }

    /// (template, case) pairs left out of the byte-identical comparison, with the reason.
    static let knownDifferences: [String: String] = [:]

    static let expectedPath = PackageFiles.path("Tests/Fixtures/chat/expected.json")

    static func loadExpected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: expectedPath)))
    }

    /// The `contexts` of expected.json (messages with tool calls, tools), read with
    /// Swiftlet's own JSON reader so that key order is kept.
    static func loadContexts() throws -> TemplateDictionary {
        let text = try String(contentsOf: URL(fileURLWithPath: expectedPath), encoding: .utf8)
        guard case .dictionary(let root) = try TemplateValue(json: text), case .dictionary(let contexts)? = root["contexts"] else {
            return TemplateDictionary()
        }
        return contexts
    }

    /// make_expected.py's fixed clock (a naive local time, as Python's datetime.now()).
    static func fixedDate(_ iso: String) -> Date {
        let parts = iso.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        var components = DateComponents()
        (components.year, components.month, components.day) = (parts[0], parts[1], parts[2])
        (components.hour, components.minute, components.second) = (parts[3], parts[4], parts[5])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        return calendar.date(from: components)!
    }

    /// Renders one pair; returns nil when it matches the reference, else what differs.
    static func check(template name: String, case key: String, expected: String, fixture: Expected,
                      contexts: TemplateDictionary) -> String? {
        let parts = key.split(separator: "/")
        let messages = fixture.cases[String(parts[0])]
        let context = contexts[String(parts[0])]
        if messages == nil && context == nil { return "unknown case \(key)" }
        let addGenerationPrompt = parts[1] == "gen"
        let source: String
        do {
            source = try String(contentsOf: templatesDirectory.appendingPathComponent(name), encoding: .utf8)
        } catch {
            return "cannot read template: \(error)"
        }
        let date = fixedDate(fixture.settings.now)
        do {
            var template = try ChatTemplate(source: source)
            template.now = { date }
            let output: String
            if let messages {
                output = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                             bosToken: fixture.settings.bos_token, eosToken: fixture.settings.eos_token)
            } else {
                guard case .dictionary(let given)? = context else { return "context \(key) is not a mapping" }
                var variables: [String: TemplateValue] = [
                    "add_generation_prompt": .bool(addGenerationPrompt), "bos_token": .string(fixture.settings.bos_token),
                    "eos_token": .string(fixture.settings.eos_token), "tools": .none, "documents": .none,
                ]
                for (name, value) in given.pairs { variables[name] = value }
                output = try template.render(context: variables)
            }
            if expected.hasPrefix("error: ") { return "reference raised \(expected) but Swiftlet rendered \(output.debugDescription.prefix(200))" }
            if output == expected { return nil }
            let a = Array(output.unicodeScalars), b = Array(expected.unicodeScalars)
            var i = 0
            while i < min(a.count, b.count) && a[i] == b[i] { i += 1 }
            func around(_ s: [Unicode.Scalar]) -> String {
                String(String.UnicodeScalarView(s[max(0, i - 40)..<min(s.count, i + 60)])).debugDescription
            }
            return "differs at scalar \(i): got \(around(a)) expected \(around(b))"
        } catch let error as ChatTemplateError {
            if expected.hasPrefix("error: TemplateError: ") {
                let message = String(expected.dropFirst("error: TemplateError: ".count))
                if error.kind == .raised && error.message == message { return nil }
                return "expected raise_exception(\(message.debugDescription)), got \(error)"
            }
            if expected.hasPrefix("error: ") { return nil }
            return "threw \(error)"
        } catch {
            return "threw \(error)"
        }
    }

    /// Result recorded on 2026-12-02: 560 of 560 pairs (70 templates x 8 cases) byte-identical,
    /// none left out. The 37 pairs where Jinja2 itself raises (e.g. gemma-2 rejecting a system
    /// message, the *-tool_use templates iterating `tools=None`) must raise here too, with the
    /// same message for `raise_exception`.
    @Test(.enabled(if: ChatTemplateFixtureTests.available,
                   "../shared/fixtures/chat-templates is absent (a user's clone has none); Jinja2 comparison skipped"))
    func everyTemplateMatchesJinja2() throws {
        let fixture = try Self.loadExpected()
        let contexts = try Self.loadContexts()
        var passed = 0
        var failures: [String] = []
        var skipped: [String] = []
        for (name, cases) in fixture.expected.sorted(by: { $0.key < $1.key }) {
            for (key, expected) in cases.sorted(by: { $0.key < $1.key }) {
                let pair = "\(name) \(key)"
                if let reason = Self.knownDifferences[pair] {
                    skipped.append("\(pair): \(reason)")
                    continue
                }
                if let problem = Self.check(template: name, case: key, expected: expected, fixture: fixture, contexts: contexts) {
                    failures.append("\(pair): \(problem)")
                } else {
                    passed += 1
                }
            }
        }
        let total = fixture.expected.values.reduce(0) { $0 + $1.count }
        print("chat templates: \(passed) of \(total) (template, case) pairs byte-identical to Jinja2; \(skipped.count) left out")
        for line in skipped { print("  left out: \(line)") }
        for line in failures { print("  FAIL: \(line)") }
        #expect(failures.isEmpty, "\(failures.count) pairs differ:\n\(failures.joined(separator: "\n"))")
        #expect(passed + skipped.count == total)
    }
}
