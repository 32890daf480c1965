import Foundation
import Hummingbird
import Swiftlet

/// Runs the choices of one completion request through the engine and answers: one JSON
/// body, or server-sent events (`data: {chunk}` per piece of text as soon as the engine
/// releases it, then `data: [DONE]`).
///
/// A client that goes away cancels its requests: the inbound side of the connection closing
/// (or a failed write while streaming) cancels them in the engine, which frees their KV
/// blocks at its next step. These responses close the connection after them
/// (`Connection: close`), since watching the inbound side consumes it.
struct GenerationResponder: Sendable {
    let engine: Engine
    let configuration: ServerConfiguration
    let admission: Admission
    let metrics: ServerMetrics

    func respond(to request: Request, plan: APIRequestPlan) async throws -> Response {
        let jobs = plan.jobs, fields = plan.fields, format = plan.endpoint.format
        guard admission.tryAcquire(jobs.count) else {
            metrics.recordRejection()
            throw APIError(status: .tooManyRequests,
                           message: "The server is at capacity (\(admission.limit) requests running or queued); retry later.",
                           type: "rate_limit_error", code: "queue_full",
                           retryAfter: configuration.retryAfterSeconds)
        }
        let submission: Submission
        do {
            submission = try Submission(engine: engine, jobs: jobs) { [admission, metrics] result in
                metrics.record(result)
                admission.release()
            }
        } catch let error as SubmissionError {
            // Requests already submitted release their own slots when they finish cancelled.
            admission.release(jobs.count - error.submitted)
            switch error.underlying as? GenerationError {
            case .invalidRequest(let message)?: throw APIError.badRequest(message)
            case .engineStopped?: throw APIError(status: .serviceUnavailable, message: "the server is shutting down", type: "server_error")
            case nil: throw error.underlying
            }
        }
        let id = plan.makeResponseID()
        let created = Int(Date().timeIntervalSince1970)
        let model = configuration.modelName
        var headers = HTTPFields()
        headers[.connection] = "close"

        if !fields.stream {
            let results = try await request.body.consumeWithInboundCloseHandler({ _ in
                await submission.results()
            }, onInboundClosed: { submission.cancel() })
            guard results.count == jobs.count, !results.values.contains(where: { $0.finishReason == .cancelled }) else {
                throw APIError(status: .serviceUnavailable, message: "the request was cancelled before it finished", type: "server_error")
            }
            headers[.contentType] = "application/json"
            let body = encodeJSON(plan.response(id: id, created: created, model: model, results: results))
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }

        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let n = fields.n
        let includeUsage = fields.includeUsage
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { submission.cancel() }
            func send(_ value: any Encodable) async throws {
                var buffer = ByteBuffer(string: "data: ")
                buffer.writeBytes(encodeJSON(value))
                buffer.writeString("\n\n")
                try await writer.write(buffer)
            }
            try await request.body.consumeWithInboundCloseHandler({ _ in
                var started = Set<Int>()
                var usage = Usage(promptTokens: 0, completionTokens: 0)
                var countedPrompts = Set<Int>()
                for await item in submission.events {
                    try Task.checkCancellation()
                    switch item.event {
                    case .token(_, let text), .text(let text):
                        guard !text.isEmpty else { continue }
                        let first = started.insert(item.index).inserted
                        try await send(format.chunk(id: id, created: created, model: model, index: item.index, text: text,
                                                    first: first, includeUsage: includeUsage))
                    case .finished(let result):
                        if started.insert(item.index).inserted {
                            try await send(format.chunk(id: id, created: created, model: model, index: item.index, text: "",
                                                        first: true, includeUsage: includeUsage))
                        }
                        try await send(format.finalChunk(id: id, created: created, model: model, index: item.index,
                                                         finishReason: result.finishReason.apiName, includeUsage: includeUsage))
                        usage.completionTokens += result.tokens.count
                        if countedPrompts.insert(item.index / n).inserted { usage.promptTokens += result.promptTokens.count }
                    }
                }
                if includeUsage { try await send(format.usageChunk(id: id, created: created, model: model, usage: usage)) }
            }, onInboundClosed: { submission.cancel() })
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        })
    }
}
