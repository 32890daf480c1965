/// Token counts of a response (`usage`).
public struct Usage: Encodable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    enum CodingKeys: String, CodingKey { case prompt_tokens, completion_tokens, total_tokens }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .prompt_tokens)
        try c.encode(completionTokens, forKey: .completion_tokens)
        try c.encode(totalTokens, forKey: .total_tokens)
    }
}
