import Foundation
import Testing
@testable import Swiftlet

/// Mangled templates (characters deleted, duplicated or swapped for template syntax) must
/// parse or fail with a ChatTemplateError, and render or fail the same way: never trap,
/// hang or run out of memory.
@Suite struct ChatTemplateFuzzTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pieces = ["{{", "}}", "{%", "%}", "{#", "#}", "-", "(", ")", "[", "]", "{", "}", "'", "\"", "|", ".", ",",
                         ":", "=", "if ", "for ", "in ", "endif", "endfor", "macro ", "set ", "not ", "loop", "caller()",
                         "0", "-1", "1e9", "**", "//", "%", "~", "\\", "\n", " is ", "none", "range(99)", "*", "::-1"]

    static func mutate(_ source: String, _ rng: inout Generator) -> String {
        var scalars = Array(source.unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = scalars.isEmpty ? 0 : Int.random(in: 0..<scalars.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0 where !scalars.isEmpty:
                scalars.removeSubrange(position..<min(scalars.count, position + Int.random(in: 1...8, using: &rng)))
            case 1:
                scalars.insert(contentsOf: pieces.randomElement(using: &rng)!.unicodeScalars, at: position)
            default:
                let end = min(scalars.count, position + Int.random(in: 1...20, using: &rng))
                scalars.insert(contentsOf: scalars[position..<end], at: position)
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    static func seeds() -> [String] {
        var seeds = [ChatTemplate.chatMLSource] + ChatTemplateLanguageTests.cases.map(\.source)
        let directory = ChatTemplateFixtureTests.templatesDirectory
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) {
            for name in names.sorted() where name.hasSuffix(".jinja") {
                if let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) { seeds.append(text) }
            }
        }
        return seeds
    }

    @Test func mangledTemplatesFailCleanly() throws {
        var rng = Generator(state: UInt64(ProcessInfo.processInfo.environment["CHAT_FUZZ_SEED"] ?? "13") ?? 13)
        let seeds = Self.seeds()
        let limits = TemplateLimits(maxLoopIterations: 20_000, maxRecursionDepth: 50, maxOutputBytes: 1 << 20)
        let messages = [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U"),
                        ChatMessage(role: "assistant", content: "A"), ChatMessage(role: "user", content: "U2")]
        var parsed = 0, rendered = 0
        let rounds = Int(ProcessInfo.processInfo.environment["CHAT_FUZZ_ROUNDS"] ?? "600") ?? 600
        for _ in 0..<rounds {
            let source = Self.mutate(seeds.randomElement(using: &rng)!, &rng)
            guard let template = try? ChatTemplate(source: source) else { continue }
            parsed += 1
            do {
                _ = try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>", limits: limits)
                rendered += 1
            } catch is ChatTemplateError {
            }
        }
        print("chat template fuzz: \(rounds) mangled templates, \(parsed) parsed, \(rendered) rendered")
        #expect(parsed > 0)
    }
}
