/// A `POST /v1/completions` body (OpenAI's legacy completions API).
///
/// `prompt` is a string, an array of strings (one set of choices each), an array of token
/// ids, or an array of arrays of token ids. `echo`, `best_of` > 1 and `suffix` are not
/// supported and rejected when asked for; unknown fields are ignored.
public struct CompletionRequest: Sendable, Equatable {
    public var prompts: [Prompt]
    public var fields: SamplingFields

    /// Reads a request body.
    /// - Throws: `APIError` (400) for a body that is not an object, a missing or empty
    ///   prompt, a wrong type or an out-of-range value.
    public init(json: JSONValue) throws {
        let reader = try FieldReader(json)
        guard let prompt = reader.value("prompt") else {
            throw APIError.badRequest("the request needs a prompt", parameter: "prompt")
        }
        prompts = try Self.prompts(prompt)
        guard !prompts.isEmpty else { throw APIError.badRequest("prompt is an empty array", parameter: "prompt") }
        for prompt in prompts {
            switch prompt {
            case .text(let text) where text.isEmpty: throw APIError.badRequest("the prompt is empty", parameter: "prompt")
            case .tokens(let ids) where ids.isEmpty: throw APIError.badRequest("a prompt's token array is empty", parameter: "prompt")
            default: break
            }
        }
        if try reader.bool("echo") == true { throw APIError.badRequest("echo is not supported", parameter: "echo") }
        if let bestOf = try reader.integer("best_of"), bestOf > 1 {
            throw APIError.badRequest("best_of is not supported", parameter: "best_of")
        }
        if let suffix = try reader.string("suffix"), !suffix.isEmpty {
            throw APIError.badRequest("suffix is not supported", parameter: "suffix")
        }
        fields = try SamplingFields(reader, logprobsIsCount: true)
        if prompts.count * fields.n > 64 {
            throw APIError.badRequest("prompts times n is \(prompts.count * fields.n); at most 64 choices per request", parameter: "n")
        }
    }

    private static func prompts(_ value: JSONValue) throws -> [Prompt] {
        let message = "prompt must be a string, an array of strings, an array of token ids or an array of arrays of token ids"
        func tokenIDs(_ items: [JSONValue]) throws -> [Int32] {
            try items.map { item in
                guard let id = item.integerValue else { throw APIError.badRequest(message, parameter: "prompt") }
                guard let small = Int32(exactly: id), small >= 0 else {
                    throw APIError.badRequest("token id \(id) in prompt is outside the vocabulary", parameter: "prompt")
                }
                return small
            }
        }
        switch value {
        case .string(let text): return [.text(text)]
        case .array(let items):
            guard let first = items.first else { return [] }
            switch first {
            case .string:
                return try items.map { item in
                    guard case .string(let text) = item else { throw APIError.badRequest(message, parameter: "prompt") }
                    return .text(text)
                }
            case .integer, .number: return [.tokens(try tokenIDs(items))]
            case .array:
                return try items.map { item in
                    guard case .array(let ids) = item else { throw APIError.badRequest(message, parameter: "prompt") }
                    return .tokens(try tokenIDs(ids))
                }
            default: throw APIError.badRequest(message, parameter: "prompt")
            }
        default: throw APIError.badRequest(message, parameter: "prompt")
        }
    }
}
