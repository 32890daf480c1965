import Foundation

/// One choice to generate: a prompt's tokens and its parameters.
public struct ChoiceJob: Sendable {
    /// The choice's `index` in the response.
    public var index: Int
    public var promptTokens: [Int32]
    public var parameters: GenerationParameters

    public init(index: Int, promptTokens: [Int32], parameters: GenerationParameters) {
        self.index = index
        self.promptTokens = promptTokens
        self.parameters = parameters
    }
}

/// The generating endpoints of the OpenAI-compatible API.
public enum APIEndpoint: String, Sendable, CaseIterable, Codable {
    case completions = "/v1/completions"
    case chatCompletions = "/v1/chat/completions"

    /// How the endpoint's responses are shaped.
    public var format: any ResponseFormat {
        switch self {
        case .completions: return CompletionFormat()
        case .chatCompletions: return ChatFormat()
        }
    }
}

/// A request body made ready for the engine: its choices and the fields that shape the answer.
public struct APIRequestPlan: Sendable {
    public var endpoint: APIEndpoint
    public var jobs: [ChoiceJob]
    public var fields: SamplingFields

    /// Reads `body` as `endpoint` does: the prompts (chat messages rendered by `chat`),
    /// tokenized and checked against `engine`'s vocabulary and context, one job per prompt
    /// and choice, each at `priority`.
    /// - Throws: `APIError` (400) for anything the endpoint refuses.
    public init(endpoint: APIEndpoint, body: JSONValue, engine: Engine, chat: ChatPromptBuilder,
                priority: RequestPriority = .interactive) throws {
        self.endpoint = endpoint
        var jobs: [ChoiceJob] = []
        switch endpoint {
        case .completions:
            let parsed = try CompletionRequest(json: body)
            fields = parsed.fields
            let n = fields.n
            for (p, prompt) in parsed.prompts.enumerated() {
                let ids = try engine.apiPromptTokens(prompt)
                for i in 0..<n {
                    let parameters = try fields.parameters(forChoice: i, promptTokens: ids.count, maxContext: engine.maxContext)
                    jobs.append(ChoiceJob(index: p * n + i, promptTokens: ids, parameters: parameters))
                }
            }
        case .chatCompletions:
            let parsed = try ChatCompletionRequest(json: body)
            fields = parsed.fields
            let ids = try chat.promptTokens(chat.render(parsed.messages))
            for stop in chat.turnStops where !fields.parameters.stopSequences.contains(stop) {
                fields.parameters.stopSequences.append(stop)
            }
            for i in 0..<fields.n {
                let parameters = try fields.parameters(forChoice: i, promptTokens: ids.count, maxContext: engine.maxContext)
                jobs.append(ChoiceJob(index: i, promptTokens: ids, parameters: parameters))
            }
        }
        for i in jobs.indices { jobs[i].parameters.priority = priority }
        self.jobs = jobs
    }

    /// A fresh response id with the endpoint's prefix (`cmpl-…`, `chatcmpl-…`).
    public func makeResponseID() -> String {
        endpoint.format.idPrefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }

    /// The whole (non-streamed) response once every job has its result (`results` by job
    /// index); choices of one prompt count its tokens once in `usage`, as OpenAI does.
    public func response(id: String, created: Int, model: String, results: [Int: GenerationResult]) -> any Encodable {
        var usage = Usage(promptTokens: 0, completionTokens: 0)
        var countedPrompts = Set<Int>()
        var choices: [FinishedChoice] = []
        for job in jobs {
            guard let result = results[job.index] else { continue }
            choices.append(FinishedChoice(index: job.index, text: result.text ?? "", finishReason: result.finishReason.apiName))
            usage.completionTokens += result.tokens.count
            if countedPrompts.insert(job.index / fields.n).inserted { usage.promptTokens += result.promptTokens.count }
        }
        return endpoint.format.response(id: id, created: created, model: model, choices: choices, usage: usage)
    }
}

extension Engine {
    /// A prompt's tokens, with the engine's errors as 400s.
    func apiPromptTokens(_ prompt: Prompt) throws -> [Int32] {
        do {
            let ids = try tokens(for: prompt)
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= modelConfiguration.vocabularySize }) {
                throw APIError.badRequest("token id \(bad) is outside the vocabulary (0..<\(modelConfiguration.vocabularySize))", parameter: "prompt")
            }
            guard !ids.isEmpty else { throw APIError.badRequest("the prompt is empty", parameter: "prompt") }
            return ids
        } catch GenerationError.invalidRequest(let message) {
            throw APIError.badRequest(message, parameter: "prompt")
        }
    }
}
