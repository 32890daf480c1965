import ArgumentParser
import Foundation
import Swiftlet

/// The chat-template flag shared by `generate --messages` and `chat`.
struct ChatOptions: ParsableArguments {
    @Option(name: [.long, .customLong("chat-template-file")],
            help: "A Jinja chat template file (default: the model's tokenizer.chat_template, else the built-in ChatML one).")
    var chatTemplate: String?

    /// The template (`--chat-template`, the model's own, or the default) bound to the
    /// engine's vocabulary. A template that does not parse is an error naming its line.
    func prompt(model: LoadedModel, engine: Engine) throws -> ChatPrompt {
        let source: String?
        let origin: String
        if let chatTemplate {
            guard let data = FileManager.default.contents(atPath: chatTemplate) else {
                throw Failure("cannot read --chat-template '\(chatTemplate)'")
            }
            guard let text = String(data: data, encoding: .utf8) else { throw Failure("--chat-template '\(chatTemplate)' is not valid UTF-8") }
            source = text
            origin = "--chat-template '\(chatTemplate)'"
        } else {
            source = ChatPrompt.templateSource(of: model)
            origin = "the model's tokenizer.chat_template"
        }
        do {
            return ChatPrompt(template: try source.map { try ChatTemplate(source: $0) }, vocabulary: engine.tokenizer?.vocabulary)
        } catch let error as ChatTemplateError {
            throw Failure("\(origin) does not parse: \(error) (give another with --chat-template FILE)")
        }
    }
}

/// Reads an OpenAI-style message list, `[{"role": ..., "content": ...}, ...]`, from a JSON
/// file. `content` is a string, null (empty) or a list of `{"type": "text", "text": ...}` parts.
func readMessages(path: String) throws -> [ChatMessage] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw Failure(FileManager.default.fileExists(atPath: path) ? "cannot read --messages '\(path)'" : "cannot read --messages '\(path)': no such file")
    }
    let json: Any
    do { json = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
        throw Failure("--messages '\(path)' is not valid JSON")
    }
    guard let list = json as? [Any] else { throw Failure("--messages '\(path)' must hold a JSON array of {\"role\", \"content\"} objects") }
    guard !list.isEmpty else { throw Failure("--messages '\(path)' holds no messages") }
    return try list.enumerated().map { index, item in
        guard let object = item as? [String: Any] else { throw Failure("--messages: message \(index) is not an object") }
        guard let role = object["role"] as? String else { throw Failure("--messages: message \(index) has no \"role\" string") }
        switch object["content"] {
        case let text as String:
            return ChatMessage(role: role, content: text)
        case nil, is NSNull:
            return ChatMessage(role: role, content: "")
        case let parts as [Any]:
            let texts = try parts.map { part -> String in
                guard let part = part as? [String: Any], part["type"] as? String == "text", let text = part["text"] as? String else {
                    throw Failure("--messages: message \(index) has a content part that is not {\"type\": \"text\", \"text\": ...}")
                }
                return text
            }
            return ChatMessage(role: role, content: texts.joined())
        default:
            throw Failure("--messages: message \(index) has a \"content\" that is neither a string nor a list of text parts")
        }
    }
}
