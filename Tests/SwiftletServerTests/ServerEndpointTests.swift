import Foundation
@testable import Swiftlet
import Testing
@testable import SwiftletServer

/// The endpoints over HTTP, against an in-process server on a loopback port.
@Suite(.serialized) struct ServerEndpointTests {
    @Test func completionsHealthModelsAndMetrics() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }

        let health = try await server.get("/health")
        #expect(health.status == 200 && health.json["status"] as? String == "ok")

        let models = try await server.get("/v1/models")
        let data = models.json["data"] as? [[String: Any]]
        #expect(models.status == 200 && data?.first?["id"] as? String == "swiftlet" && data?.first?["object"] as? String == "model")

        let reply = try await server.post("/v1/completions", #"{"model": "swiftlet", "prompt": "ROMEO:", "max_tokens": 12, "temperature": 0, "ignore_eos": true}"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json["object"] as? String == "text_completion")
        #expect((reply.json["id"] as? String)?.hasPrefix("cmpl-") == true)
        let choice = (reply.json["choices"] as? [[String: Any]])?.first
        #expect(choice?["finish_reason"] as? String == "length")
        #expect((choice?["text"] as? String)?.isEmpty == false)
        #expect(choice?["logprobs"] is NSNull)
        let usage = reply.json["usage"] as? [String: Int]
        #expect(usage?["completion_tokens"] == 12)
        #expect((usage?["prompt_tokens"] ?? 0) > 0 && usage?["total_tokens"] == (usage?["prompt_tokens"] ?? 0) + 12)

        // The library gives the same greedy text.
        let direct = try await server.engine.complete(prompt: .text("ROMEO:"), parameters: GenerationParameters(maxTokens: 12, sampling: .greedy, ignoreEOS: true))
        #expect(choice?["text"] as? String == direct.text)

        let metrics = try await server.get("/metrics")
        #expect(metrics.status == 200)
        for name in ["swiftlet:time_to_first_token_seconds_bucket", "swiftlet:inter_token_latency_seconds_bucket",
                     "swiftlet:e2e_request_latency_seconds_count", "swiftlet:request_queue_time_seconds_sum",
                     "swiftlet:prompt_tokens_total", "swiftlet:generation_tokens_total", "swiftlet:num_requests_running",
                     "swiftlet:num_requests_waiting", "swiftlet:kv_cache_usage_perc", "swiftlet:kv_cache_blocks_used",
                     "swiftlet:prefix_cache_queries_total", "swiftlet:prefix_cache_hits_total"] {
            #expect(metrics.text.contains(name), "missing \(name)")
        }
        // Only requests through the server are counted (the direct library call is not).
        #expect(metrics.text.contains(#"swiftlet:generation_tokens_total{model_name="swiftlet"} 12"#))
    }

    @Test func streamingGivesTheSameTextAsOneBody() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let body = #"{"prompt": "JULIET:", "max_tokens": 24, "temperature": 0.9, "seed": 11, "top_k": 40"#
        let whole = try await server.post("/v1/completions", body + "}")
        let stream = try await server.post("/v1/completions", body + #", "stream": true, "stream_options": {"include_usage": true}}"#)
        #expect(stream.status == 200)
        #expect(stream.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let events = stream.events
        #expect(events.last == "[DONE]")
        var text = ""
        var finish: String?
        var usage: [String: Int]?
        for event in events.dropLast() {
            let chunk = try #require(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any])
            #expect(chunk["object"] as? String == "text_completion")
            if let choices = chunk["choices"] as? [[String: Any]], let first = choices.first {
                text += first["text"] as? String ?? ""
                if let reason = first["finish_reason"] as? String { finish = reason }
                #expect(chunk["usage"] is NSNull)
            } else {
                usage = chunk["usage"] as? [String: Int]
            }
        }
        let choice = (whole.json["choices"] as? [[String: Any]])?.first
        #expect(text == choice?["text"] as? String)
        #expect(finish == choice?["finish_reason"] as? String)
        #expect(usage == whole.json["usage"] as? [String: Int])
        #expect(events.count > 3, "text arrives in several chunks")
    }

    @Test func severalChoicesAndPrompts() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let reply = try await server.post("/v1/completions", #"{"prompt": ["ROMEO:", "KING:"], "n": 2, "max_tokens": 8, "seed": 3, "ignore_eos": true}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let choices = try #require(reply.json["choices"] as? [[String: Any]])
        #expect(choices.map { $0["index"] as? Int } == [0, 1, 2, 3])
        let usage = reply.json["usage"] as? [String: Int]
        #expect(usage?["completion_tokens"] == 32)
        // A repeated seeded request repeats every choice.
        let again = try await server.post("/v1/completions", #"{"prompt": ["ROMEO:", "KING:"], "n": 2, "max_tokens": 8, "seed": 3, "ignore_eos": true}"#)
        #expect((again.json["choices"] as? [[String: Any]])?.map { $0["text"] as? String } == choices.map { $0["text"] as? String })

        let stream = try await server.post("/v1/completions", #"{"prompt": "ROMEO:", "n": 3, "max_tokens": 6, "stream": true, "ignore_eos": true}"#)
        var finished = Set<Int>()
        for event in stream.events.dropLast() {
            let chunk = try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any]
            for choice in chunk?["choices"] as? [[String: Any]] ?? [] where choice["finish_reason"] is String {
                finished.insert(choice["index"] as? Int ?? -1)
            }
        }
        #expect(finished == [0, 1, 2])
    }

    @Test func stopSequencesEndWithStop() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let plain = try await server.post("/v1/completions", #"{"prompt": "ROMEO:", "max_tokens": 40, "temperature": 0, "ignore_eos": true}"#)
        let text = try #require((plain.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
        let stop = String(text.dropFirst(4).prefix(3))
        let body = try JSONSerialization.data(withJSONObject: ["prompt": "ROMEO:", "max_tokens": 40, "temperature": 0, "ignore_eos": true, "stop": [stop]])
        let stopped = try await server.request("POST", "/v1/completions", body: body)
        let choice = (stopped.json["choices"] as? [[String: Any]])?.first
        #expect(choice?["finish_reason"] as? String == "stop")
        #expect((choice?["text"] as? String).map { text.hasPrefix($0) && !$0.contains(stop) } == true)
    }

    @Test func chatCompletionsStreamedAndNot() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let body = #"{"messages": [{"role": "system", "content": "You are a player."}, {"role": "user", "content": "Speak."}], "max_tokens": 20, "temperature": 0"#
        let whole = try await server.post("/v1/chat/completions", body + "}")
        #expect(whole.status == 200, "\(whole.text)")
        #expect(whole.json["object"] as? String == "chat.completion")
        let choice = (whole.json["choices"] as? [[String: Any]])?.first
        let message = choice?["message"] as? [String: Any]
        #expect(message?["role"] as? String == "assistant")
        let content = try #require(message?["content"] as? String)
        #expect(["stop", "length"].contains(choice?["finish_reason"] as? String ?? ""))
        let usage = try #require(whole.json["usage"] as? [String: Int])
        // The prompt is the rendered ChatML conversation (the shipped model has no template).
        let rendered = try server.server.chat.render([.init(role: "system", content: "You are a player."), .init(role: "user", content: "Speak.")])
        #expect(rendered.hasPrefix("<|im_start|>system\nYou are a player.<|im_end|>\n") && rendered.hasSuffix("<|im_start|>assistant\n"))
        let promptTokens = try server.server.chat.promptTokens(rendered)
        #expect(usage["prompt_tokens"] == promptTokens.count)

        let stream = try await server.post("/v1/chat/completions", body + #", "stream": true, "stream_options": {"include_usage": true}}"#)
        var text = "", roles: [String] = [], finish: String?, streamedUsage: [String: Int]?
        for event in stream.events.dropLast() {
            let chunk = try #require(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any])
            #expect(chunk["object"] as? String == "chat.completion.chunk")
            if let first = (chunk["choices"] as? [[String: Any]])?.first {
                let delta = first["delta"] as? [String: Any] ?? [:]
                if let role = delta["role"] as? String { roles.append(role) }
                text += delta["content"] as? String ?? ""
                if let reason = first["finish_reason"] as? String { finish = reason }
            } else {
                streamedUsage = chunk["usage"] as? [String: Int]
            }
        }
        #expect(stream.events.last == "[DONE]")
        #expect(roles == ["assistant"])
        #expect(text == content)
        #expect(finish == choice?["finish_reason"] as? String)
        #expect(streamedUsage == usage)
    }

    @Test func chatPageIsServed() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let page = try await server.get("/")
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("<html") || page.text.contains("<!doctype html"))
    }
}
