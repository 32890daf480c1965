/// The fields `/v1/completions` and `/v1/chat/completions` share: sampling, length, stop,
/// `n` and streaming, read from a request body and range-checked.
///
/// Honoured: `max_tokens` / `max_completion_tokens`, `temperature` (0...2), `top_p` (0, 1],
/// `seed`, `stop` (a string or up to 16 strings), `presence_penalty` / `frequency_penalty`
/// (-2...2), `n` (1...16), `stream`, `stream_options.include_usage`, and the llama.cpp /
/// vLLM extensions `top_k` (-1 or 0 = off), `min_p` [0, 1], `repetition_penalty` (> 0) and
/// `ignore_eos`. Token log-probabilities are not computed by the engine: a request asking for
/// them is rejected (400) instead of answered without them.
public struct SamplingFields: Sendable, Equatable {
    /// Most tokens to generate; nil = whatever the context leaves after the prompt.
    public var maxTokens: Int?
    /// Everything but `maxTokens`, which is set per prompt once its length is known.
    public var parameters: GenerationParameters
    /// Choices per prompt.
    public var n: Int
    public var stream: Bool
    /// Streaming: send a last chunk with `usage`.
    public var includeUsage: Bool

    public static let maxChoices = 16
    public static let maxStopSequences = 16

    /// Reads the shared fields.
    /// - Parameter logprobsIsCount: `/v1/completions` takes `logprobs` as a count, chat as a boolean.
    /// - Throws: `APIError` (400) naming the field for a wrong type or an out-of-range value.
    init(_ reader: FieldReader, logprobsIsCount: Bool) throws {
        var sampling = SamplingParameters()  // OpenAI's defaults: temperature 1, no filter
        func range(_ ok: Bool, _ name: String, _ text: String) throws {
            if !ok { throw APIError.badRequest("\(name) \(text)", parameter: name) }
        }
        let maxTokensField = reader.value("max_completion_tokens") != nil ? "max_completion_tokens" : "max_tokens"
        if let value = try reader.integer(maxTokensField) {
            try range(value >= 1, maxTokensField, "must be at least 1, not \(value)")
            maxTokens = Int(clamping: value)
        }
        if let value = try reader.number("temperature") {
            try range(value >= 0 && value <= 2, "temperature", "must be in [0, 2], not \(value)")
            sampling.temperature = Float(value)
        }
        if let value = try reader.number("top_p") {
            try range(value > 0 && value <= 1, "top_p", "must be in (0, 1], not \(value)")
            sampling.topP = Float(value)
        }
        if let value = try reader.integer("top_k") {
            try range(value >= -1, "top_k", "must be -1 or 0 (off) or a positive count, not \(value)")
            sampling.topK = Int(clamping: max(0, value))
        }
        if let value = try reader.number("min_p") {
            try range(value >= 0 && value <= 1, "min_p", "must be in [0, 1], not \(value)")
            sampling.minP = Float(value)
        }
        if let value = try reader.number("repetition_penalty") {
            try range(value > 0 && value <= 100, "repetition_penalty", "must be in (0, 100], not \(value)")
            sampling.repetitionPenalty = Float(value)
        }
        if let value = try reader.number("presence_penalty") {
            try range(value >= -2 && value <= 2, "presence_penalty", "must be in [-2, 2], not \(value)")
            sampling.presencePenalty = Float(value)
        }
        if let value = try reader.number("frequency_penalty") {
            try range(value >= -2 && value <= 2, "frequency_penalty", "must be in [-2, 2], not \(value)")
            sampling.frequencyPenalty = Float(value)
        }
        if let value = try reader.integer("seed") {
            sampling.seed = UInt64(bitPattern: value)
        }
        var stop: [String] = []
        if let value = try reader.strings("stop") {
            try range(value.count <= Self.maxStopSequences, "stop", "has \(value.count) sequences; at most \(Self.maxStopSequences) are allowed")
            stop = value.filter { !$0.isEmpty }
        }
        let ignoreEOS = try reader.bool("ignore_eos") ?? false
        if let value = try reader.integer("n") {
            try range(value >= 1 && value <= Int64(Self.maxChoices), "n", "must be in [1, \(Self.maxChoices)], not \(value)")
            n = Int(value)
        } else {
            n = 1
        }
        if logprobsIsCount {
            if let value = try reader.integer("logprobs") {
                throw APIError.badRequest("logprobs (\(value)) is not supported: this server does not compute token log-probabilities", parameter: "logprobs")
            }
        } else if try reader.bool("logprobs") == true {
            throw APIError.badRequest("logprobs is not supported: this server does not compute token log-probabilities", parameter: "logprobs")
        }
        if let value = try reader.integer("top_logprobs"), value != 0 {
            throw APIError.badRequest("top_logprobs is not supported: this server does not compute token log-probabilities", parameter: "top_logprobs")
        }
        _ = try reader.string("model")
        _ = try reader.string("user")
        stream = try reader.bool("stream") ?? false
        includeUsage = try reader.object("stream_options")?.bool("include_usage") ?? false
        parameters = GenerationParameters(maxTokens: 1, sampling: sampling, stopSequences: stop, ignoreEOS: ignoreEOS)
    }

    /// The parameters for one choice: `maxTokens` resolved against the context, and the seed
    /// advanced by the choice's index so that `n` seeded choices differ but repeat.
    public func parameters(forChoice index: Int, promptTokens: Int, maxContext: Int) throws -> GenerationParameters {
        guard promptTokens < maxContext else {
            throw APIError.badRequest(
                "This model's maximum context length is \(maxContext) tokens. However, your prompt has \(promptTokens) tokens (at least one token must be left to generate).",
                parameter: "prompt")
        }
        var result = parameters
        if let maxTokens {
            guard maxTokens <= maxContext - promptTokens else {
                let total = promptTokens.addingReportingOverflow(maxTokens)
                throw APIError.badRequest(
                    "This model's maximum context length is \(maxContext) tokens. However, you requested \(total.overflow ? "more than \(Int.max)" : String(total.partialValue)) tokens (\(promptTokens) in the prompt, \(maxTokens) for the completion). Please reduce the prompt or the completion length.",
                    parameter: "max_tokens")
            }
            result.maxTokens = maxTokens
        } else {
            result.maxTokens = maxContext - promptTokens
        }
        if let seed = result.sampling.seed { result.sampling.seed = seed &+ UInt64(index) }
        return result
    }
}
