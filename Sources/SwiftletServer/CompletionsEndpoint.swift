import Foundation
import Hummingbird
import Swiftlet

/// `POST /v1/completions`.
struct CompletionsEndpoint: Sendable {
    let engine: Engine
    let configuration: ServerConfiguration
    let responder: GenerationResponder

    func handle(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        let parsed = try CompletionRequest(json: JSONValue.parse(Data(body.readableBytesView)))
        let n = parsed.fields.n
        var jobs: [ChoiceJob] = []
        for (p, prompt) in parsed.prompts.enumerated() {
            let ids = try engine.promptTokens(prompt)
            for i in 0..<n {
                let parameters = try parsed.fields.parameters(forChoice: i, promptTokens: ids.count, maxContext: engine.maxContext)
                jobs.append(ChoiceJob(index: p * n + i, promptTokens: ids, parameters: parameters))
            }
        }
        return try await responder.respond(to: request, jobs: jobs, fields: parsed.fields, format: CompletionFormat())
    }
}

extension Engine {
    /// A prompt's tokens, with the engine's errors as 400s.
    func promptTokens(_ prompt: Prompt) throws -> [Int32] {
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
