// libFuzzer target: the chat-template renderer (Sources/Swiftlet/Chat).
//
// One input is a Jinja template source, optionally followed by a NUL byte and message
// contents separated by NUL bytes (alternating user and assistant turns). Without contents
// one of a fixed set of conversations is rendered (system + user, multi-turn, an empty
// list; chosen by the input's length, as is the generation prompt: one render per input
// keeps the target fast). Parsing and rendering must either succeed or throw
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

/// One long-lived thread with the renderer's big stack runs every input (a thread per
/// parse and render, as `TemplateStack` starts them, costs more than the work under ASan).
private final class Worker: @unchecked Sendable {
    private let start = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var job: (() -> Void)?

    init() {
        let thread = Thread { [unowned self] in
            TemplateStack.markCurrentThread()
            while true {
                start.wait()
                job?()
                done.signal()
            }
        }
        thread.stackSize = TemplateStack.stackSize
        thread.start()
    }

    func perform(_ body: @escaping () -> Void) {
        job = body
        start.signal()
        done.wait()
    }
}

private let worker = Worker()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatTemplate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    worker.perform { fuzzOne(bytes) }
    return 0
}

private func fuzzOne(_ bytes: [UInt8]) {
    let size = bytes.count
    let parts = bytes.split(separator: 0, maxSplits: Int.max, omittingEmptySubsequences: false)
    let source = String(decoding: parts.first ?? [], as: UTF8.self)
    let template: ChatTemplate
    do {
        template = try ChatTemplate(source: source)
    } catch is ChatTemplateError {
        return
    } catch {
        fatalError("parsing threw \(type(of: error)), not ChatTemplateError: \(error)")
    }
    var fixed = template
    fixed.now = { Date(timeIntervalSince1970: 1_700_000_000) }
    let messages: [ChatMessage] = parts.count > 1
        ? parts.dropFirst().enumerated().map { index, content in
            ChatMessage(role: index % 2 == 0 ? "user" : "assistant", content: String(decoding: content, as: UTF8.self))
        }
        : conversations[size % conversations.count]
    do {
        let text = try fixed.render(messages: messages, addGenerationPrompt: size % 2 == 0, bosToken: "<s>", eosToken: "</s>",
                                    limits: limits)
        precondition(text.utf8.count <= limits.maxOutputBytes, "output of \(text.utf8.count) bytes passed the cap")
    } catch is ChatTemplateError {
        // Refused with a message: what a broken template must do.
    } catch {
        fatalError("rendering threw \(type(of: error)), not ChatTemplateError: \(error)")
    }
}
