import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet generate`: one request through the engine, streamed to stdout, stats to stderr.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt and print tokens per second.")

    @OptionGroup var engine: EngineOptions

    @Option(name: [.long, .customShort("p")], help: "Prompt text (tokenized with the model's vocabulary, BOS added).")
    var prompt: String?

    @Option(name: .long, help: "Prompt token ids, comma separated, used exactly as given (no BOS added).")
    var promptTokens: String?

    @Option(name: .long, help: "A JSON file of OpenAI-style messages, [{\"role\": ..., \"content\": ...}], rendered with the chat template.")
    var messages: String?

    @OptionGroup var chat: ChatOptions

    @OptionGroup var sampling: SamplingOptions

    @Option(name: .long, help: "Stop before this text (repeatable).")
    var stop: [String] = []

    @Option(name: .long, help: "Most draft tokens per step with --draft-model or --draft ngram (adapted to measured acceptance).")
    var draftTokens: Int = 4

    @Flag(name: .long, help: "Print one JSON object with tokens, text, prompt_text and stats instead of streaming.")
    var json = false

    func validate() throws {
        guard [prompt != nil, promptTokens != nil, messages != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --prompt, --prompt-tokens or --messages")
        }
        if chat.chatTemplate != nil && messages == nil { throw ValidationError("--chat-template needs --messages") }
        guard (1...64).contains(draftTokens) else { throw ValidationError("--draft-tokens must be between 1 and 64") }
    }

    func run() async throws {
        let list = try messages.map { try readMessages(path: $0) }
        let (engine, model) = try self.engine.makeEngine { $0.maxDraftTokens = draftTokens }
        defer { engine.shutdown() }
        var stops = stop
        let input: Prompt
        let promptText: String?
        if let list {
            guard let tokenizer = engine.tokenizer else { throw Failure("--messages needs a model with a vocabulary (or --tokenizer)") }
            let chatPrompt = try chat.prompt(model: model, engine: engine)
            let text: String
            do { text = try chatPrompt.render(list) } catch let error as ChatTemplateError {
                throw Failure("the chat template refused the messages: \(error)")
            }
            let ids = chatPrompt.tokens(of: text, tokenizer: tokenizer)
            guard !ids.isEmpty else { throw Failure("the messages render to an empty prompt") }
            input = .tokens(ids)
            promptText = text
            stops += chatPrompt.turnStops.filter { !stops.contains($0) }
        } else if let promptTokens {
            input = .tokens(try parseTokenList(promptTokens, option: "--prompt-tokens"))
            promptText = nil
        } else {
            input = .text(prompt!)
            promptText = prompt
        }
        let parameters = GenerationParameters(maxTokens: sampling.maxTokens, sampling: sampling.parameters, stopSequences: stops, ignoreEOS: sampling.ignoreEos)
        var result: GenerationResult?
        for try await event in engine.generate(prompt: input, parameters: parameters) {
            switch event {
            case .token(_, let text), .text(let text):
                if !json && !text.isEmpty {
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            case .finished(let finished):
                result = finished
            }
        }
        guard let result else { throw GenerationError.engineStopped }
        let m = result.metrics
        if json {
            let output = GenerateOutput(result: result, promptText: promptText)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print()
            printError(String(
                format: "prompt tokens: %d | prefill: %.1f tok/s | time to first token: %.1f ms | generated: %d tokens | decode: %.1f tok/s | finish: %@",
                m.promptTokenCount, m.prefillTokensPerSecond ?? 0, (m.timeToFirstToken ?? 0) * 1000,
                m.generatedTokenCount, m.decodeTokensPerSecond ?? 0, result.finishReason.rawValue))
            if m.draftTokensProposed > 0 || self.engine.draftModel != nil || self.engine.draft != nil {
                printError(String(format: "draft tokens: %d proposed, %d accepted (%.1f%%) | %.2f tokens per target step",
                                  m.draftTokensProposed, m.draftTokensAccepted, (m.acceptanceRate ?? 0) * 100,
                                  Double(m.generatedTokenCount) / Double(max(1, m.targetSteps))))
            }
        }
    }
}

/// The `--json` output of `generate`.
struct GenerateOutput: Encodable {
    let result: GenerationResult
    /// The prompt as text: `--prompt`, or the rendered `--messages`; nil for `--prompt-tokens`.
    let promptText: String?

    enum Keys: String, CodingKey { case prompt_tokens, prompt_text, tokens, text, finish_reason, stats }
    enum StatsKeys: String, CodingKey {
        case prompt_token_count, generated_token_count, time_to_first_token_ms
        case prefill_tokens_per_second, decode_tokens_per_second, total_seconds
        case draft_tokens_proposed, draft_tokens_accepted, acceptance_rate, mean_tokens_per_target_step
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(result.promptTokens, forKey: .prompt_tokens)
        try c.encodeIfPresent(promptText, forKey: .prompt_text)
        try c.encode(result.tokens, forKey: .tokens)
        try c.encode(result.text, forKey: .text)
        try c.encode(result.finishReason == .length ? "length" : "stop", forKey: .finish_reason)
        let m = result.metrics
        var s = c.nestedContainer(keyedBy: StatsKeys.self, forKey: .stats)
        try s.encode(m.promptTokenCount, forKey: .prompt_token_count)
        try s.encode(m.generatedTokenCount, forKey: .generated_token_count)
        try s.encode((m.timeToFirstToken ?? 0) * 1000, forKey: .time_to_first_token_ms)
        try s.encode(m.prefillTokensPerSecond ?? 0, forKey: .prefill_tokens_per_second)
        try s.encode(m.decodeTokensPerSecond ?? 0, forKey: .decode_tokens_per_second)
        try s.encode(m.endToEndTime ?? 0, forKey: .total_seconds)
        try s.encode(m.draftTokensProposed, forKey: .draft_tokens_proposed)
        try s.encode(m.draftTokensAccepted, forKey: .draft_tokens_accepted)
        try s.encode(m.acceptanceRate ?? 0, forKey: .acceptance_rate)
        try s.encode(Double(m.generatedTokenCount) / Double(max(1, m.targetSteps)), forKey: .mean_tokens_per_target_step)
    }
}
