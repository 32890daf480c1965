/// Makes an engine prompt of chat messages: renders them with the chat template, tokenizes
/// with the template's special tokens parsed, and names the template's end-of-turn markers
/// that the vocabulary lacks as tokens (they stop generation as text instead: ChatML's
/// `<|im_end|>` on a model that was not trained for chat).
public struct ChatPromptBuilder: Sendable {
    public let template: ChatTemplate
    public let bosToken: String
    public let eosToken: String
    /// End-of-turn markers of the template that the vocabulary lacks as tokens.
    public let turnStops: [String]
    private let tokenizer: (any Tokenizer)?

    public static let endOfTurnMarkers = ["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_turn|>"]

    /// - Parameter templateSource: Jinja source; nil or unparsable gives `ChatTemplate.defaultTemplate`.
    public init(tokenizer: (any Tokenizer)?, templateSource: String?) {
        self.tokenizer = tokenizer
        template = templateSource.flatMap { try? ChatTemplate(source: $0) } ?? ChatTemplate.defaultTemplate
        let vocabulary = tokenizer?.vocabulary
        bosToken = vocabulary.flatMap { v in v.specialTokens.bos.flatMap { v.text(of: $0) } } ?? ""
        eosToken = vocabulary.flatMap { v in v.specialTokens.eos.flatMap { v.text(of: $0) } } ?? ""
        let source = template.source
        turnStops = Self.endOfTurnMarkers.filter { source.contains($0) && vocabulary?.id(of: $0) == nil }
    }

    /// The model's own chat template (GGUF `tokenizer.chat_template`), if it has one.
    public static func modelTemplate(of model: LoadedModel) -> String? {
        (try? model.metadata?.string("tokenizer.chat_template")) ?? nil
    }

    /// The prompt the template makes of `messages`, as text.
    /// - Throws: `APIError` (400) when the template refuses them.
    public func render(_ messages: [ChatCompletionRequest.Message]) throws -> String {
        do {
            return try template.render(messages: messages.map { ChatMessage(role: $0.role, content: $0.content) },
                                       addGenerationPrompt: true, bosToken: bosToken, eosToken: eosToken)
        } catch let error as ChatTemplateError {
            throw APIError.badRequest("the chat template refused the messages: \(error.message)", parameter: "messages")
        }
    }

    /// The prompt's tokens: special tokens in the rendered text parsed, BOS added unless the
    /// template wrote it.
    /// - Throws: `APIError` (400) without a tokenizer or for an empty prompt.
    public func promptTokens(_ text: String) throws -> [Int32] {
        guard let tokenizer else {
            throw APIError.badRequest("this model has no tokenizer, so it cannot chat; use /v1/completions with token ids")
        }
        let templateWroteBOS = !bosToken.isEmpty && text.hasPrefix(bosToken)
        let ids = tokenizer.encode(text, addSpecialTokens: !templateWroteBOS, parseSpecial: true)
        guard !ids.isEmpty else { throw APIError.badRequest("the messages render to an empty prompt", parameter: "messages") }
        return ids
    }
}
