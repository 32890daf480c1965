/// One line of a batch's output: a request's result, or why it could not run.
///
/// A completed request encodes as
/// `{"id", "text", "tokens", "prompt_tokens", "finish_reason", "metrics": {"ttft_ms",
/// "decode_tokens_per_second", "queue_ms", "e2e_ms", "generated_tokens"}}`
/// (`text` is null for a model without a tokenizer, a timing null when it does not apply);
/// a failed one as `{"id", "error": {"message"}}`.
public struct BatchRequestRecord: Sendable, Encodable {
    public enum Outcome: Sendable {
        case completed(GenerationResult)
        case failed(message: String)
    }

    public let id: BatchRequestID
    public let outcome: Outcome

    public init(id: BatchRequestID, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }

    /// The result, when the request ran.
    public var result: GenerationResult? {
        if case .completed(let result) = outcome { return result }
        return nil
    }

    private enum Keys: String, CodingKey {
        case id, text, tokens, prompt_tokens, finish_reason, metrics, error
    }

    private enum MetricsKeys: String, CodingKey {
        case ttft_ms, decode_tokens_per_second, queue_ms, e2e_ms, generated_tokens
    }

    private enum ErrorKeys: String, CodingKey {
        case message
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .id)
        switch outcome {
        case .failed(let message):
            var error = container.nestedContainer(keyedBy: ErrorKeys.self, forKey: .error)
            try error.encode(message, forKey: .message)
        case .completed(let result):
            try container.encode(result.text, forKey: .text)
            try container.encode(result.tokens, forKey: .tokens)
            try container.encode(result.promptTokens.count, forKey: .prompt_tokens)
            try container.encode(result.finishReason.rawValue, forKey: .finish_reason)
            let m = result.metrics
            var metrics = container.nestedContainer(keyedBy: MetricsKeys.self, forKey: .metrics)
            try metrics.encode(m.timeToFirstToken.map { $0 * 1000 }, forKey: .ttft_ms)
            try metrics.encode(m.decodeTokensPerSecond, forKey: .decode_tokens_per_second)
            try metrics.encode(m.queueTime.map { $0 * 1000 }, forKey: .queue_ms)
            try metrics.encode(m.endToEndTime.map { $0 * 1000 }, forKey: .e2e_ms)
            try metrics.encode(m.generatedTokenCount, forKey: .generated_tokens)
        }
    }
}
