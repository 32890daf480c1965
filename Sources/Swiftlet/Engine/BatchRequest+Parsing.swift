import Foundation

extension BatchRequest {
    /// The fields a request line may have; any other is an error (a misspelt option should not
    /// silently fall back to its default).
    public static let fieldNames: [String] = [
        "id", "prompt", "prompt_tokens", "max_tokens", "temperature", "top_p", "top_k", "min_p",
        "seed", "stop", "ignore_eos", "repeat_penalty", "frequency_penalty", "presence_penalty",
    ]

    /// Parses one line of a batch input file.
    ///
    /// Exactly one of `prompt` (text, tokenized with BOS as the vocabulary asks) or
    /// `prompt_tokens` (ids used as given) is required; every other field is optional and
    /// takes its value from `defaults`. Value ranges (sampling parameters, token ids against
    /// the vocabulary, prompt length against the context) are checked by the engine when the
    /// request is submitted.
    /// - Parameters:
    ///   - line: the line's bytes, without the newline.
    ///   - lineNumber: the line's 1-based number in the file: the id of a line without one.
    ///   - defaults: parameters for the fields the line leaves out.
    /// - Throws: `BatchRequestError` for invalid JSON, a line that is not an object, unknown
    ///   fields, values of the wrong type, or a missing or empty prompt.
    public static func parse(line: Data, lineNumber: Int, defaults: GenerationParameters) throws -> BatchRequest {
        var id = BatchRequestID.integer(Int64(lineNumber))
        func fail(_ message: String) -> BatchRequestError { BatchRequestError(id: id, message: message) }

        let value: JSONValue
        do {
            value = try JSONValue.parse(line, what: "the line")
        } catch let error as APIError {
            throw fail(error.message)
        }
        guard case .object(let fields) = value else {
            throw fail("the line is a JSON \(value.typeName), not an object")
        }
        switch fields["id"] {
        case nil, .null?: break
        case .string(let text)?: id = .string(text)
        case .integer(let number)?: id = .integer(number)
        case .number(let number)?: id = .number(number)
        case let other?: throw fail("id must be a string or a number, not a \(other.typeName)")
        }
        if let unknown = fields.keys.sorted().first(where: { !fieldNames.contains($0) }) {
            throw fail("unknown field '\(unknown)' (fields: \(fieldNames.joined(separator: ", ")))")
        }

        do {
            return try parse(fields: FieldReader(value), id: id, defaults: defaults)
        } catch let error as APIError {
            throw fail(error.message)
        }
    }

    /// The request of a line's fields; type errors are `APIError`s naming the field.
    private static func parse(fields reader: FieldReader, id: BatchRequestID, defaults: GenerationParameters) throws -> BatchRequest {
        func fail(_ message: String) -> BatchRequestError { BatchRequestError(id: id, message: message) }
        let prompt: Prompt
        switch (try reader.string("prompt"), try reader.integers("prompt_tokens")) {
        case (let text?, nil):
            guard !text.isEmpty else { throw fail("the prompt is empty") }
            prompt = .text(text)
        case (nil, let ids?):
            guard !ids.isEmpty else { throw fail("prompt_tokens is empty") }
            if let bad = ids.first(where: { Int32(exactly: $0) == nil }) {
                throw fail("token id \(bad) in prompt_tokens is outside the vocabulary")
            }
            prompt = .tokens(ids.map { Int32($0) })
        case (nil, nil): throw fail("the request needs a prompt (text) or prompt_tokens (ids)")
        case (_?, _?): throw fail("give either prompt or prompt_tokens, not both")
        }

        var parameters = defaults
        if let value = try reader.integer("max_tokens") { parameters.maxTokens = Int(clamping: value) }
        if let value = try reader.number("temperature") { parameters.sampling.temperature = Float(value) }
        if let value = try reader.number("top_p") { parameters.sampling.topP = Float(value) }
        if let value = try reader.integer("top_k") { parameters.sampling.topK = Int(clamping: value) }
        if let value = try reader.number("min_p") { parameters.sampling.minP = Float(value) }
        if let value = try reader.number("repeat_penalty") { parameters.sampling.repetitionPenalty = Float(value) }
        if let value = try reader.number("frequency_penalty") { parameters.sampling.frequencyPenalty = Float(value) }
        if let value = try reader.number("presence_penalty") { parameters.sampling.presencePenalty = Float(value) }
        if let value = try reader.integer("seed") {
            guard value >= 0 else { throw fail("seed must be a non-negative integer, not \(value)") }
            parameters.sampling.seed = UInt64(value)
        }
        if let value = try reader.strings("stop") { parameters.stopSequences = value }
        if let value = try reader.bool("ignore_eos") { parameters.ignoreEOS = value }
        return BatchRequest(id: id, prompt: prompt, parameters: parameters)
    }
}
