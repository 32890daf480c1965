/// One request of an offline batch, in the spirit of the OpenAI Batch API: a JSON object on
/// one line of a JSONL file (see `BatchRequest.parse(line:lineNumber:defaults:)`).
///
/// ```json
/// {"id": "q1", "prompt": "ROMEO:", "max_tokens": 32, "temperature": 0}
/// {"id": 7, "prompt_tokens": [1, 306, 4966], "stop": ["\n"], "seed": 3}
/// ```
public struct BatchRequest: Sendable, Equatable {
    /// The caller's id, echoed back in the request's record.
    public var id: BatchRequestID
    public var prompt: Prompt
    public var parameters: GenerationParameters

    public init(id: BatchRequestID, prompt: Prompt, parameters: GenerationParameters) {
        self.id = id
        self.prompt = prompt
        self.parameters = parameters
    }
}

/// A request id as the input gave it: a string or a number (a line without one gets its
/// line number).
public enum BatchRequestID: Sendable, Hashable, Encodable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    /// A number with a fraction or outside `Int64`.
    case number(Double)

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .string(let value): return value
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        }
    }
}

/// A line that cannot become a request; it is answered with an error record for `id`.
public struct BatchRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line's id, or its line number when the id is missing or unreadable.
    public let id: BatchRequestID
    public let message: String

    public init(id: BatchRequestID, message: String) {
        self.id = id
        self.message = message
    }

    public var description: String { "request \(id): \(message)" }
}
