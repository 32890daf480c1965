import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet chat`: an interactive conversation on the terminal, rendered with the model's
/// chat template, replies streamed as they are generated.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with the model interactively (its chat template, else ChatML).",
        discussion: """
            Type a message and press Enter; the reply streams, then its tokens per second \
            (on stderr). /reset clears the history, /exit or Ctrl-D quits. The history is \
            kept within the context: when it is full the oldest turns are dropped, with a note.
            """)

    @OptionGroup var engine: EngineOptions

    @Option(name: .long, help: "A system message to start every prompt with.")
    var system: String?

    @OptionGroup var chat: ChatOptions

    @OptionGroup var sampling: SamplingOptions

    func run() async throws {
        let (engine, model) = try self.engine.makeEngine()
        defer { engine.shutdown() }
        guard let tokenizer = engine.tokenizer else { throw Failure("chat needs a model with a vocabulary (or --tokenizer)") }
        let prompt = try chat.prompt(model: model, engine: engine)
        let interactive = isatty(STDIN_FILENO) != 0
        let templateName = chat.chatTemplate.map { "--chat-template \($0)" }
            ?? (prompt.usesDefaultTemplate ? "the built-in ChatML template (the model has none)" : "the model's template")
        printError("chat: context \(engine.maxContext) tokens, \(templateName). /reset clears the history, /exit or Ctrl-D quits.")
        // Room a reply needs: --max-tokens, but at most half the context.
        let reserve = max(1, min(sampling.maxTokens, engine.maxContext / 2))
        var conversation = ChatConversation(system: system)
        while true {
            if interactive { write("> ") }
            guard let line = readLine(strippingNewline: true) else {
                if interactive { write("\n") }
                return
            }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input == "/exit" || input == "/quit" { return }
            if input == "/reset" {
                conversation.reset()
                printError("(history cleared)")
                continue
            }
            conversation.append(ChatMessage(role: "user", content: line))
            let ids: [Int32]
            let dropped: Int
            do {
                dropped = try conversation.fit { messages in
                    prompt.tokens(of: try prompt.render(messages), tokenizer: tokenizer).count + reserve <= engine.maxContext
                }
                ids = prompt.tokens(of: try prompt.render(conversation.messages), tokenizer: tokenizer)
            } catch let error as ChatTemplateError {
                conversation.removeLast()
                printError("Error: the chat template refused the messages: \(error)")
                continue
            }
            if dropped > 0 {
                printError("(the context of \(engine.maxContext) tokens is full: dropped the oldest \(dropped) message\(dropped == 1 ? "" : "s"))")
            }
            guard ids.count < engine.maxContext else {
                conversation.removeLast()
                printError("Error: this message takes \(ids.count) tokens with the template, more than the context of \(engine.maxContext); send a shorter one")
                continue
            }
            let parameters = GenerationParameters(maxTokens: min(sampling.maxTokens, engine.maxContext - ids.count),
                                                  sampling: sampling.parameters, stopSequences: prompt.turnStops,
                                                  ignoreEOS: sampling.ignoreEos)
            var result: GenerationResult?
            for try await event in engine.generate(prompt: .tokens(ids), parameters: parameters) {
                switch event {
                case .token(_, let text), .text(let text):
                    if !text.isEmpty { write(text) }
                case .finished(let finished):
                    result = finished
                }
            }
            write("\n")
            guard let result else { throw GenerationError.engineStopped }
            conversation.append(ChatMessage(role: "assistant", content: result.text ?? ""))
            let m = result.metrics
            printError(String(format: "(prompt %d tokens; reply %d tokens%@, %.1f tok/s)", m.promptTokenCount, m.generatedTokenCount,
                              result.finishReason == .length ? " (the limit)" : "", m.decodeTokensPerSecond ?? 0))
        }
    }

    /// Writes `text` to stdout at once (no buffering: replies stream).
    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
