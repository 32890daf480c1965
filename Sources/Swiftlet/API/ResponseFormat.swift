import Foundation

/// One finished choice, for a whole (non-streamed) response.
public struct FinishedChoice: Sendable {
    public var index: Int
    public var text: String
    public var finishReason: String

    public init(index: Int, text: String, finishReason: String) {
        self.index = index
        self.text = text
        self.finishReason = finishReason
    }
}

/// How an endpoint shapes its answers: the whole response, and the chunks of a stream.
public protocol ResponseFormat: Sendable {
    /// The id prefix (`cmpl-`, `chatcmpl-`).
    var idPrefix: String { get }
    func response(id: String, created: Int, model: String, choices: [FinishedChoice], usage: Usage) -> any Encodable
    /// A chunk of new text for a choice; `first` is the choice's first chunk.
    func chunk(id: String, created: Int, model: String, index: Int, text: String, first: Bool, includeUsage: Bool) -> any Encodable
    /// The chunk that ends a choice.
    func finalChunk(id: String, created: Int, model: String, index: Int, finishReason: String, includeUsage: Bool) -> any Encodable
    /// The last chunk of a stream with `include_usage`: no choices, the request's usage.
    func usageChunk(id: String, created: Int, model: String, usage: Usage) -> any Encodable
}

/// `/v1/completions`.
public struct CompletionFormat: ResponseFormat {
    public init() {}

    public var idPrefix: String { "cmpl-" }

    public func response(id: String, created: Int, model: String, choices: [FinishedChoice], usage: Usage) -> any Encodable {
        CompletionResponse(id: id, created: created, model: model,
                           choices: choices.map { .init(index: $0.index, text: $0.text, finishReason: $0.finishReason) }, usage: usage)
    }

    public func chunk(id: String, created: Int, model: String, index: Int, text: String, first: Bool, includeUsage: Bool) -> any Encodable {
        CompletionResponse(id: id, created: created, model: model, choices: [.init(index: index, text: text, finishReason: nil)],
                           usage: nil, encodesNullUsage: includeUsage)
    }

    public func finalChunk(id: String, created: Int, model: String, index: Int, finishReason: String, includeUsage: Bool) -> any Encodable {
        CompletionResponse(id: id, created: created, model: model, choices: [.init(index: index, text: "", finishReason: finishReason)],
                           usage: nil, encodesNullUsage: includeUsage)
    }

    public func usageChunk(id: String, created: Int, model: String, usage: Usage) -> any Encodable {
        CompletionResponse(id: id, created: created, model: model, choices: [], usage: usage)
    }
}

/// `/v1/chat/completions`.
public struct ChatFormat: ResponseFormat {
    public init() {}

    public var idPrefix: String { "chatcmpl-" }

    public func response(id: String, created: Int, model: String, choices: [FinishedChoice], usage: Usage) -> any Encodable {
        ChatCompletionResponse(id: id, created: created, model: model,
                               choices: choices.map { .init(index: $0.index, role: "assistant", content: $0.text, finishReason: $0.finishReason) },
                               usage: usage, isChunk: false)
    }

    public func chunk(id: String, created: Int, model: String, index: Int, text: String, first: Bool, includeUsage: Bool) -> any Encodable {
        ChatCompletionResponse(id: id, created: created, model: model,
                               choices: [.init(index: index, role: first ? "assistant" : nil, content: text, finishReason: nil, isChunk: true)],
                               usage: nil, isChunk: true, encodesNullUsage: includeUsage)
    }

    public func finalChunk(id: String, created: Int, model: String, index: Int, finishReason: String, includeUsage: Bool) -> any Encodable {
        ChatCompletionResponse(id: id, created: created, model: model,
                               choices: [.init(index: index, role: nil, content: nil, finishReason: finishReason, isChunk: true)],
                               usage: nil, isChunk: true, encodesNullUsage: includeUsage)
    }

    public func usageChunk(id: String, created: Int, model: String, usage: Usage) -> any Encodable {
        ChatCompletionResponse(id: id, created: created, model: model, choices: [], usage: usage, isChunk: true)
    }
}

extension FinishReason {
    /// The OpenAI spelling; a request cut by shutdown reads `abort` (vLLM's word).
    public var apiName: String {
        switch self {
        case .stop: return "stop"
        case .length: return "length"
        case .cancelled: return "abort"
        }
    }
}

/// JSON for responses: compact, `/` unescaped.
public func encodeJSON(_ value: any Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return (try? encoder.encode(value)) ?? Data("{}".utf8)
}
