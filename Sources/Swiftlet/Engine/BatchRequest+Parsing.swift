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

        let value: BatchJSONValue
        do {
            value = try JSONDecoder().decode(BatchJSONValue.self, from: line)
        } catch {
            throw fail("the line is not valid JSON")
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

        let reader = FieldReader(fields: fields, id: id)
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
        if let value = try reader.float("temperature") { parameters.sampling.temperature = value }
        if let value = try reader.float("top_p") { parameters.sampling.topP = value }
        if let value = try reader.integer("top_k") { parameters.sampling.topK = Int(clamping: value) }
        if let value = try reader.float("min_p") { parameters.sampling.minP = value }
        if let value = try reader.float("repeat_penalty") { parameters.sampling.repetitionPenalty = value }
        if let value = try reader.float("frequency_penalty") { parameters.sampling.frequencyPenalty = value }
        if let value = try reader.float("presence_penalty") { parameters.sampling.presencePenalty = value }
        if let value = try reader.integer("seed") {
            guard value >= 0 else { throw fail("seed must be a non-negative integer, not \(value)") }
            parameters.sampling.seed = UInt64(value)
        }
        if let value = try reader.strings("stop") { parameters.stopSequences = value }
        if let value = try reader.bool("ignore_eos") { parameters.ignoreEOS = value }
        return BatchRequest(id: id, prompt: prompt, parameters: parameters)
    }
}

/// Typed access to a request line's fields, failing with the field's name and expected type.
private struct FieldReader {
    let fields: [String: BatchJSONValue]
    let id: BatchRequestID

    private func mismatch(_ name: String, _ expected: String, _ value: BatchJSONValue) -> BatchRequestError {
        BatchRequestError(id: id, message: "\(name) must be \(expected), not a \(value.typeName)")
    }

    /// The field, or nil when it is missing or null.
    private func value(_ name: String) -> BatchJSONValue? {
        guard let value = fields[name], value != .null else { return nil }
        return value
    }

    func string(_ name: String) throws -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw mismatch(name, "a string", value) }
        return text
    }

    func integer(_ name: String) throws -> Int64? {
        guard let value = value(name) else { return nil }
        guard let number = value.integerValue else { throw mismatch(name, "an integer", value) }
        return number
    }

    func float(_ name: String) throws -> Float? {
        guard let value = value(name) else { return nil }
        switch value {
        case .integer(let number): return Float(number)
        case .number(let number): return Float(number)
        default: throw mismatch(name, "a number", value)
        }
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw mismatch(name, "true or false", value) }
        return flag
    }

    func integers(_ name: String) throws -> [Int64]? {
        guard let value = value(name) else { return nil }
        guard case .array(let items) = value else { throw mismatch(name, "an array of integers", value) }
        return try items.map { item in
            guard let number = item.integerValue else { throw mismatch("every item of \(name)", "an integer", item) }
            return number
        }
    }

    /// A string or an array of strings (as in the OpenAI API's `stop`).
    func strings(_ name: String) throws -> [String]? {
        guard let value = value(name) else { return nil }
        switch value {
        case .string(let text): return [text]
        case .array(let items):
            return try items.map { item in
                guard case .string(let text) = item else { throw mismatch("every item of \(name)", "a string", item) }
                return text
            }
        default: throw mismatch(name, "a string or an array of strings", value)
        }
    }
}

/// Any JSON value, decoded without a schema so that a line's type errors can be named.
enum BatchJSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([BatchJSONValue])
    case object([String: BatchJSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([BatchJSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: BatchJSONValue].self))
        }
    }

    /// The value as an integer, when it is one (a number without a fraction counts).
    var integerValue: Int64? {
        switch self {
        case .integer(let number): return number
        case .number(let number): return Int64(exactly: number)
        default: return nil
        }
    }

    /// The JSON type's name, for messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
