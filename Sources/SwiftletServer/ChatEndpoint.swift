import Foundation
import Hummingbird
import Swiftlet

/// `POST /v1/chat/completions`: messages rendered with the chat template, tokenized with the
/// template's special tokens parsed, then generated like a completion. Generation stops at
/// the vocabulary's end-of-turn tokens (the engine's end-of-generation set), and at the
/// template's end-of-turn marker as text when the vocabulary has no such token (ChatML's
/// `<|im_end|>` on a model that was not trained for chat).
struct ChatEndpoint: Sendable {
    let engine: Engine
    let configuration: ServerConfiguration
    let prompt: ChatPrompt

    /// - Parameter templateSource: Jinja source; nil or unparsable gives `ChatTemplate.defaultTemplate`.
    init(engine: Engine, configuration: ServerConfiguration, templateSource: String?) {
        self.engine = engine
        self.configuration = configuration
        prompt = ChatPrompt(template: templateSource.flatMap { try? ChatTemplate(source: $0) },
                            vocabulary: engine.tokenizer?.vocabulary)
    }

    /// The template in use.
    var template: ChatTemplate { prompt.template }
    /// End-of-turn markers of the template that the vocabulary lacks as tokens.
    var turnStops: [String] { prompt.turnStops }

    /// The prompt the template makes of `messages`, as text.
    func render(_ messages: [ChatCompletionRequest.Message]) throws -> String {
        do {
            return try prompt.render(messages.map { ChatMessage(role: $0.role, content: $0.content) })
        } catch let error as ChatTemplateError {
            throw APIError.badRequest("the chat template refused the messages: \(error.message)", parameter: "messages")
        }
    }

    /// The prompt's tokens: special tokens in the rendered text parsed, BOS added unless the
    /// template wrote it.
    func promptTokens(_ text: String) throws -> [Int32] {
        guard let tokenizer = engine.tokenizer else {
            throw APIError.badRequest("this model has no tokenizer, so it cannot chat; use /v1/completions with token ids")
        }
        let ids = prompt.tokens(of: text, tokenizer: tokenizer)
        guard !ids.isEmpty else { throw APIError.badRequest("the messages render to an empty prompt", parameter: "messages") }
        return ids
    }

    func handle(_ request: Request, responder: GenerationResponder) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        var parsed = try ChatCompletionRequest(json: JSONValue.parse(Data(body.readableBytesView)))
        let ids = try promptTokens(render(parsed.messages))
        for stop in turnStops where !parsed.fields.parameters.stopSequences.contains(stop) {
            parsed.fields.parameters.stopSequences.append(stop)
        }
        var jobs: [ChoiceJob] = []
        for i in 0..<parsed.fields.n {
            let parameters = try parsed.fields.parameters(forChoice: i, promptTokens: ids.count, maxContext: engine.maxContext)
            jobs.append(ChoiceJob(index: i, promptTokens: ids, parameters: parameters))
        }
        return try await responder.respond(to: request, jobs: jobs, fields: parsed.fields, format: ChatFormat())
    }
}
