/// A `/v1/chat/completions` answer (`object: "chat.completion"`), or one streamed chunk
/// (`object: "chat.completion.chunk"`, each choice carrying a `delta`).
public struct ChatCompletionResponse: Encodable, Sendable {
    /// One choice: the assistant's message, or in a chunk the delta since the last one.
    public struct Choice: Encodable, Sendable {
        public var index: Int
        /// The message's role; in chunks only the first delta of a choice has it.
        public var role: String?
        /// The text; nil in a chunk's last delta (`{}`).
        public var content: String?
        public var finishReason: String?
        /// Encode as a chunk's `delta` instead of a `message`.
        public var isChunk = false

        enum CodingKeys: String, CodingKey { case index, message, delta, logprobs, finish_reason }
        enum MessageKeys: String, CodingKey { case role, content }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            var message = c.nestedContainer(keyedBy: MessageKeys.self, forKey: isChunk ? .delta : .message)
            if isChunk {
                try message.encodeIfPresent(role, forKey: .role)
                try message.encodeIfPresent(content, forKey: .content)
            } else {
                try message.encode(role ?? "assistant", forKey: .role)
                try message.encode(content ?? "", forKey: .content)
            }
            try c.encodeNil(forKey: .logprobs)
            try c.encode(finishReason, forKey: .finish_reason)
        }
    }

    public var id: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
    public var isChunk: Bool
    public var encodesNullUsage = false

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(isChunk ? "chat.completion.chunk" : "chat.completion", forKey: .object)
        try c.encode(created, forKey: .created)
        try c.encode(model, forKey: .model)
        try c.encode(choices, forKey: .choices)
        if let usage { try c.encode(usage, forKey: .usage) } else if encodesNullUsage { try c.encodeNil(forKey: .usage) }
    }
}
