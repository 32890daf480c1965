/// One turn of a conversation as chat templates see it: `{"role": ..., "content": ...}`.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// The speaker: "system", "user", "assistant", "tool", or whatever a template accepts.
    public var role: String
    /// The turn's text.
    public var content: String

    /// Creates a message with `role` and `content`.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// The message as the dictionary a template indexes (`message.role`, `message['content']`).
    public var templateValue: TemplateValue {
        .dictionary(TemplateDictionary([("role", .string(role)), ("content", .string(content))]))
    }
}
