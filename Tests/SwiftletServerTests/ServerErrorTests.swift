import Foundation
@testable import Swiftlet
import Testing
@testable import SwiftletServer

/// Every error class over HTTP: OpenAI-style JSON bodies and the right status, never a 5xx
/// for bad input.
@Suite(.serialized) struct ServerErrorTests {
    @Test func badRequestsAre400WithJSONBodies() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let cases: [(String, String)] = [
            ("{", "not valid JSON"),
            ("", "not valid JSON"),
            (#"{"prompt": "a", "temperature": "x"}"#, "temperature must be a number"),
            (#"{"prompt": "a", "top_p": 7}"#, "top_p"),
            (#"{"prompt": "a", "max_tokens": 255}"#, "maximum context length is 256"),
            (#"{"prompt": [99999]}"#, "outside the vocabulary"),
            (#"{"prompt": "a", "n": 100}"#, "n must be"),
        ]
        for (body, message) in cases {
            let reply = try await server.post("/v1/completions", body)
            #expect(reply.status == 400, "\(body): \(reply.status) \(reply.text)")
            #expect(reply.errorMessage?.contains(message) == true, "\(body): \(reply.text)")
            #expect(reply.headers["content-type"] == "application/json")
        }
        // The over-long request names the numbers.
        let long = try await server.post("/v1/completions", #"{"prompt": "ROMEO:", "max_tokens": 255}"#)
        let message = long.errorMessage ?? ""
        #expect(message.contains("256") && message.contains("255"), "\(message)")
        // Nothing was left running.
        let metrics = await server.waitForIdleEngine()
        #expect(metrics.kvBlocksUsed == 0)
    }

    @Test func unknownPathIs404() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let reply = try await server.get("/v1/nothing")
        #expect(reply.status == 404)
        #expect(reply.errorMessage?.contains("/v1/nothing") == true, "\(reply.text)")
        let wrongMethod = try await server.get("/v1/completions")
        #expect(wrongMethod.status == 404 || wrongMethod.status == 405)
        #expect(wrongMethod.errorMessage != nil)
    }

    @Test func apiKeyIsRequired() async throws {
        let server = try await TestServer(configuration: ServerConfiguration(apiKey: "sekret"))
        defer { Task { await server.stop() } }
        let missing = try await server.post("/v1/completions", #"{"prompt": "a", "max_tokens": 1}"#)
        #expect(missing.status == 401 && missing.errorMessage?.contains("missing") == true)
        let wrong = try await server.post("/v1/completions", #"{"prompt": "a", "max_tokens": 1}"#, headers: ["Authorization": "Bearer nope"])
        #expect(wrong.status == 401 && (wrong.json["error"] as? [String: Any])?["type"] as? String == "authentication_error")
        let models = try await server.get("/v1/models")
        #expect(models.status == 401)
        let right = try await server.post("/v1/completions", #"{"prompt": "a", "max_tokens": 1}"#, headers: ["Authorization": "Bearer sekret"])
        #expect(right.status == 200)
        #expect(try await server.get("/health").status == 200)
    }

    @Test func bodyLimitIs413() async throws {
        let server = try await TestServer(configuration: ServerConfiguration(maxBodyBytes: 2048))
        defer { Task { await server.stop() } }
        let prompt = String(repeating: "a", count: 4096)
        let reply = try await server.post("/v1/completions", #"{"prompt": "\#(prompt)"}"#)
        #expect(reply.status == 413, "\(reply.text)")
        #expect(reply.errorMessage != nil)
    }

    @Test func fullQueueIs429WithRetryAfter() async throws {
        let server = try await TestServer(configuration: ServerConfiguration(maxQueue: 0),
                                          engineConfiguration: EngineConfiguration(threadCount: 2, maxSequences: 1, kvCacheMegabytes: 64, maxContext: 256))
        defer { Task { await server.stop() } }
        // One long request takes the only slot.
        let long = Task { try await server.post("/v1/completions", #"{"prompt": "ROMEO:", "max_tokens": 200, "ignore_eos": true}"#) }
        let deadline = Date().addingTimeInterval(10)
        while server.server.admission.current == 0 && Date() < deadline { try await Task.sleep(nanoseconds: 5_000_000) }
        let refused = try await server.post("/v1/completions", #"{"prompt": "a", "max_tokens": 1}"#)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.headers["retry-after"] == "1")
        #expect((refused.json["error"] as? [String: Any])?["type"] as? String == "rate_limit_error")
        #expect(try await long.value.status == 200)
        // Once the slot is free, requests are admitted again.
        #expect(try await server.post("/v1/completions", #"{"prompt": "a", "max_tokens": 1}"#).status == 200)
        #expect(server.server.admission.current == 0)
    }
}
