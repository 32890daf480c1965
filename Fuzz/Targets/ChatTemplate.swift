// libFuzzer target: the chat-template renderer (Sources/Swiftlet/Chat).
//
// One input is a Jinja template source, optionally followed by a NUL byte and message
// contents separated by NUL bytes (alternating user and assistant turns). Without contents a
// fixed set of conversations is rendered (system + user, multi-turn, an empty list), each
// with and without the generation prompt. Parsing and rendering must either succeed or throw
// `ChatTemplateError`, within the limits: no trap, no hang, no output past the cap.
import Foundation
@testable import Swiftlet

private let limits = TemplateLimits(maxLoopIterations: 20_000, maxRecursionDepth: 64, maxOutputBytes: 1 << 20)

private let conversations: [[ChatMessage]] = [
    [ChatMessage(role: "system", content: "You are a poet."), ChatMessage(role: "user", content: "Hello, how are you?")],
    [ChatMessage(role: "user", content: "2+2?"), ChatMessage(role: "assistant", content: "4"),
     ChatMessage(role: "user", content: "  and é🙂 <|im_end|> {{ x }}  ")],
    [],
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatTemplate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let parts = bytes.split(separator: 0, maxSplits: Int.max, omittingEmptySubsequences: false)
    let source = String(decoding: parts.first ?? [], as: UTF8.self)
    let template: ChatTemplate
    do {
        template = try ChatTemplate(source: source)
    } catch is ChatTemplateError {
        return 0
    } catch {
        fatalError("parsing threw \(type(of: error)), not ChatTemplateError: \(error)")
    }
    var fixed = template
    fixed.now = { Date(timeIntervalSince1970: 1_700_000_000) }
    let lists: [[ChatMessage]] = parts.count > 1
        ? [parts.dropFirst().enumerated().map { index, content in
            ChatMessage(role: index % 2 == 0 ? "user" : "assistant", content: String(decoding: content, as: UTF8.self))
        }]
        : conversations
    for messages in lists {
        for generationPrompt in [true, false] {
            do {
                let text = try fixed.render(messages: messages, addGenerationPrompt: generationPrompt, bosToken: "<s>", eosToken: "</s>",
                                            limits: limits)
                precondition(text.utf8.count <= limits.maxOutputBytes, "output of \(text.utf8.count) bytes passed the cap")
            } catch is ChatTemplateError {
                // Refused with a message: what a broken template must do.
            } catch {
                fatalError("rendering threw \(type(of: error)), not ChatTemplateError: \(error)")
            }
        }
    }
    return 0
}
