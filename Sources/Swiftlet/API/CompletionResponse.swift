/// A `/v1/completions` answer: the whole response (`object: "text_completion"`), or one
/// server-sent chunk of a streamed one (same object name, as OpenAI sends it).
public struct CompletionResponse: Encodable, Sendable {
    /// One choice: its text so far (a chunk) or all of it.
    public struct Choice: Encodable, Sendable {
        public var index: Int
        public var text: String
        /// `stop` or `length`; nil in a chunk before the choice ends.
        public var finishReason: String?

        enum CodingKeys: String, CodingKey { case index, text, logprobs, finish_reason }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(text, forKey: .text)
            try c.encodeNil(forKey: .logprobs)
            try c.encode(finishReason, forKey: .finish_reason)
        }
    }

    public var id: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
    /// Chunks of a stream with `include_usage` carry `"usage": null` until the last.
    public var encodesNullUsage = false

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode("text_completion", forKey: .object)
        try c.encode(created, forKey: .created)
        try c.encode(model, forKey: .model)
        try c.encode(choices, forKey: .choices)
        if let usage { try c.encode(usage, forKey: .usage) } else if encodesNullUsage { try c.encodeNil(forKey: .usage) }
    }
}
