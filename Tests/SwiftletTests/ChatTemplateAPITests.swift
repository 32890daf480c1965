import Foundation
import Testing
@testable import Swiftlet

/// The public entry points: the ChatML default, `render(messages:)`, `render(context:)`
/// with JSON values, the injectable clock.
@Suite struct ChatTemplateAPITests {
    let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")]

    @Test func defaultTemplateIsChatML() throws {
        let prompt = try ChatTemplate.defaultTemplate.render(messages: messages, addGenerationPrompt: true)
        #expect(prompt == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let noPrompt = try ChatTemplate.defaultTemplate.render(messages: messages, addGenerationPrompt: false)
        #expect(noPrompt == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
    }

    @Test func tokensAndToolsAreExposed() throws {
        let template = try ChatTemplate(source: "{{ bos_token }}{{ messages | length }}{{ tools is none }}{{ add_generation_prompt }}{{ eos_token }}")
        #expect(try template.render(messages: messages, addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>") == "<s>2TrueFalse</s>")
    }

    @Test func contextFromJSONKeepsKeyOrder() throws {
        let tools = try TemplateValue(json: #"[{"type": "function", "function": {"name": "f", "parameters": {"z": 1, "a": [true, null, 1.5, "é\n"]}}}]"#)
        let template = try ChatTemplate(source: "{{ tools | tojson }}|{{ tools[0].function.name }}")
        #expect(try template.render(context: ["tools": tools]) ==
            #"[{"type": "function", "function": {"name": "f", "parameters": {"z": 1, "a": [true, null, 1.5, "é\n"]}}}]|f"#)
        #expect(throws: ChatTemplateError.self) { try TemplateValue(json: "{\"a\": }") }
    }

    @Test func clockIsInjectable() throws {
        var template = try ChatTemplate(source: "{{ strftime_now('%d %B %Y') }}")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        let date = calendar.date(from: DateComponents(year: 2024, month: 7, day: 4, hour: 12))!
        template.now = { date }
        #expect(try template.render(messages: [], addGenerationPrompt: false) == "04 July 2024")
    }

    @Test func templatesAreSendableAndReusable() async throws {
        let template = ChatTemplate.defaultTemplate
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<8 {
                group.addTask { try template.render(messages: [ChatMessage(role: "user", content: "\(i)")], addGenerationPrompt: false) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(outputs).count == 8)
    }

    /// Known differences from Jinja2, kept on purpose or for simplicity: tuples are lists
    /// (they print with brackets), and integers are 64-bit (overflow is an error).
    @Test func documentedDifferences() throws {
        #expect(try ChatTemplate(source: "{{ (1, 2) }}").render(context: [:]) == "[1, 2]")
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(source: "{{ 2 ** 70 }}").render(context: [:]) }
    }
}
