import Foundation
import Hummingbird
import Swiftlet

/// `POST /v1/completions` and `POST /v1/chat/completions`: the body read into an
/// `APIRequestPlan` (chat messages rendered with the chat template and tokenized with its
/// special tokens parsed; generation stops at the template's end-of-turn tokens), then
/// generated and answered by the `GenerationResponder`.
struct GenerationEndpoint: Sendable {
    let endpoint: APIEndpoint
    let engine: Engine
    let configuration: ServerConfiguration
    let chat: ChatPromptBuilder
    let responder: GenerationResponder

    func handle(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        let plan = try APIRequestPlan(endpoint: endpoint, body: JSONValue.parse(Data(body.readableBytesView)),
                                      engine: engine, chat: chat)
        return try await responder.respond(to: request, plan: plan)
    }
}
