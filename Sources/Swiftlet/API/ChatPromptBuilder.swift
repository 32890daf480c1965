/// The API's face of `ChatPrompt`: makes an engine prompt of request messages for
/// `/v1/chat/completions` and chat lines of `swiftlet batch`, with every failure an
/// `APIError` (400). Rendering, tokenizing and the end-of-turn stops are `ChatPrompt`'s.
public struct ChatPromptBuilder: Sendable {
    /// The template bound to the model's vocabulary.
    public let prompt: ChatPrompt
    private let tokenizer: (any Tokenizer)?

    public var template: ChatTemplate { prompt.template }
    public var bosToken: String { prompt.bosToken }
    public var eosToken: String { prompt.eosToken }
    /// End-of-turn markers of the template that the vocabulary lacks as tokens.
    public var turnStops: [String] { prompt.turnStops }

    /// - Parameter templateSource: Jinja source; nil or unparsable gives `ChatTemplate.defaultTemplate`.
    public init(tokenizer: (any Tokenizer)?, templateSource: String?) {
        self.tokenizer = tokenizer
        prompt = ChatPrompt(template: templateSource.flatMap { try? ChatTemplate(source: $0) }, vocabulary: tokenizer?.vocabulary)
    }

    /// The model's own chat template (GGUF `tokenizer.chat_template`), if it has one.
    public static func modelTemplate(of model: LoadedModel) -> String? { ChatPrompt.templateSource(of: model) }

    /// The prompt the template makes of `messages`, as text.
    /// - Throws: `APIError` (400) when the template refuses them.
    public func render(_ messages: [ChatCompletionRequest.Message]) throws -> String {
        do {
            return try prompt.render(messages.map { ChatMessage(role: $0.role, content: $0.content) })
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
        let ids = prompt.tokens(of: text, tokenizer: tokenizer)
        guard !ids.isEmpty else { throw APIError.badRequest("the messages render to an empty prompt", parameter: "messages") }
        return ids
    }
}
