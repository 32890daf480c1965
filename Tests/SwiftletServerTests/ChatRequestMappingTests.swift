import Foundation
@testable import Swiftlet
import Testing
@testable import SwiftletServer

/// Chat bodies: messages, content parts, roles, and what is refused.
@Suite struct ChatRequestMappingTests {
    func chat(_ json: String) throws -> ChatCompletionRequest {
        try ChatCompletionRequest(json: JSONValue.parse(Data(json.utf8)))
    }

    @Test func messagesMap() throws {
        let request = try chat("""
            {"model": "m", "messages": [{"role": "developer", "content": "Be brief."},
             {"role": "user", "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "friend."}]},
             {"role": "assistant", "content": null}, {"role": "user", "content": "Again", "name": "x"}],
             "max_completion_tokens": 9, "logprobs": false, "tool_choice": "none"}
            """)
        #expect(request.messages == [
            .init(role: "system", content: "Be brief."), .init(role: "user", content: "Hello, friend."),
            .init(role: "assistant", content: ""), .init(role: "user", content: "Again"),
        ])
        #expect(request.fields.maxTokens == 9)
    }

    @Test(arguments: [
        (#"{}"#, "needs messages"),
        (#"{"messages": "hi"}"#, "messages must be an array"),
        (#"{"messages": []}"#, "empty"),
        (#"{"messages": [3]}"#, "messages[0] must be an object"),
        (#"{"messages": [{"content": "x"}]}"#, "role is missing"),
        (#"{"messages": [{"role": "wizard", "content": "x"}]}"#, "is not one of"),
        (#"{"messages": [{"role": 1, "content": "x"}]}"#, "messages[0].role must be a string"),
        (#"{"messages": [{"role": "user", "content": 5}]}"#, "messages[0].content must be"),
        (#"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}"#, "only text"),
        (#"{"messages": [{"role": "user", "content": "x"}], "logprobs": true}"#, "not supported"),
        (#"{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}"#, "not supported"),
        (#"{"messages": [{"role": "user", "content": "x"}], "tools": []}"#, "tools is not supported"),
        (#"{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}"#, "not supported"),
        (#"{"messages": [{"role": "user", "content": "x"}], "temperature": 9}"#, "temperature"),
    ])
    func rejected(body: String, message: String) {
        do {
            _ = try chat(body)
            Issue.record("accepted \(body)")
        } catch let error as APIError {
            #expect(error.status == .badRequest)
            #expect(error.message.contains(message), "\(body): \(error.message)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
