/// A chat template bound to a model's vocabulary: renders a conversation into the prompt's
/// text and tokens, and knows where a reply ends. Shared by `swiftlet generate --messages`,
/// `swiftlet chat` and the server's `/v1/chat/completions`.
///
/// Generation stops at the vocabulary's end-of-turn tokens (the engine's end-of-generation
/// set); `turnStops` adds the template's end-of-turn markers as text when the vocabulary has
/// no such token (ChatML's `<|im_end|>` on a model that was not trained for chat).
public struct ChatPrompt: Sendable {
    /// The template in use (the model's own, or `ChatTemplate.defaultTemplate`).
    public let template: ChatTemplate
    /// Whether `template` is the built-in default because the model has none.
    public let usesDefaultTemplate: Bool
    /// `bos_token` and `eos_token` as the template sees them ("" without a vocabulary).
    public let bosToken: String
    public let eosToken: String
    /// End-of-turn markers of the template that the vocabulary lacks as tokens: stop
    /// sequences for every reply.
    public let turnStops: [String]

    /// Markers real templates close a turn with.
    public static let endOfTurnMarkers = ["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_turn|>"]

    /// Binds `template` (nil: `ChatTemplate.defaultTemplate`) to `vocabulary`.
    public init(template: ChatTemplate?, vocabulary: Vocabulary?) {
        self.template = template ?? ChatTemplate.defaultTemplate
        usesDefaultTemplate = template == nil
        bosToken = vocabulary.flatMap { v in v.specialTokens.bos.flatMap { v.text(of: $0) } } ?? ""
        eosToken = vocabulary.flatMap { v in v.specialTokens.eos.flatMap { v.text(of: $0) } } ?? ""
        let source = self.template.source
        turnStops = Self.endOfTurnMarkers.filter { source.contains($0) && vocabulary?.id(of: $0) == nil }
    }

    /// The model's own template, GGUF `tokenizer.chat_template`, if it has one.
    public static func templateSource(of model: LoadedModel) -> String? {
        (try? model.metadata?.string("tokenizer.chat_template")) ?? nil
    }

    /// The prompt text the template makes of `messages`; throws `ChatTemplateError`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
    }

    /// The rendered text's tokens: special tokens in it parsed, BOS added unless the
    /// template wrote it.
    public func tokens(of text: String, tokenizer: any Tokenizer) -> [Int32] {
        let templateWroteBOS = !bosToken.isEmpty && text.hasPrefix(bosToken)
        return tokenizer.encode(text, addSpecialTokens: !templateWroteBOS, parseSpecial: true)
    }
}
