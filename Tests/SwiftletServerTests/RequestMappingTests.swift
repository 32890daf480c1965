import Foundation
@testable import Swiftlet
import Testing
@testable import SwiftletServer

/// How request bodies map to engine parameters, and which bodies are refused (400).
@Suite struct RequestMappingTests {
    func completion(_ json: String) throws -> CompletionRequest {
        try CompletionRequest(json: JSONValue.parse(Data(json.utf8)))
    }

    func rejection(_ json: String) -> APIError? {
        do {
            _ = try completion(json)
            return nil
        } catch let error as APIError {
            return error
        } catch {
            return nil
        }
    }

    @Test func defaultsAreOpenAIs() throws {
        let request = try completion(#"{"prompt": "ROMEO:"}"#)
        #expect(request.prompts == [.text("ROMEO:")])
        let fields = request.fields
        #expect(fields.maxTokens == nil && fields.n == 1 && !fields.stream && !fields.includeUsage)
        #expect(fields.parameters.sampling == SamplingParameters())
        #expect(fields.parameters.stopSequences.isEmpty && !fields.parameters.ignoreEOS)
    }

    @Test func everyFieldMaps() throws {
        let request = try completion("""
            {"model": "m", "prompt": "a", "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
             "repetition_penalty": 1.1, "presence_penalty": 0.5, "frequency_penalty": -0.5, "seed": 42, "stop": ["\\n", "X"],
             "n": 3, "stream": true, "stream_options": {"include_usage": true}, "ignore_eos": true, "user": "u"}
            """)
        let f = request.fields
        #expect(f.maxTokens == 7 && f.n == 3 && f.stream && f.includeUsage)
        let s = f.parameters.sampling
        #expect(s.temperature == 0.5 && s.topP == 0.9 && s.topK == 40 && s.minP == 0.05)
        #expect(s.repetitionPenalty == Float(1.1) && s.presencePenalty == 0.5 && s.frequencyPenalty == -0.5 && s.seed == 42)
        #expect(f.parameters.stopSequences == ["\n", "X"] && f.parameters.ignoreEOS)
        let second = try f.parameters(forChoice: 1, promptTokens: 10, maxContext: 256)
        #expect(second.maxTokens == 7 && second.sampling.seed == 43)
    }

    @Test func maxCompletionTokensWinsAndUnknownFieldsAreIgnored() throws {
        let request = try completion(#"{"prompt": "a", "max_tokens": 3, "max_completion_tokens": 5, "mystery": {"x": [1]}, "echo": false}"#)
        #expect(request.fields.maxTokens == 5)
    }

    @Test func promptForms() throws {
        #expect(try completion(#"{"prompt": ["a", "b"]}"#).prompts == [.text("a"), .text("b")])
        #expect(try completion(#"{"prompt": [1, 2, 3]}"#).prompts == [.tokens([1, 2, 3])])
        #expect(try completion(#"{"prompt": [[1], [2, 3]]}"#).prompts == [.tokens([1]), .tokens([2, 3])])
        #expect(try completion(#"{"prompt": "a", "stop": "\n"}"#).fields.parameters.stopSequences == ["\n"])
    }

    @Test func topKMinusOneIsOff() throws {
        #expect(try completion(#"{"prompt": "a", "top_k": -1}"#).fields.parameters.sampling.topK == 0)
    }

    @Test func maxTokensDefaultsToTheRestOfTheContext() throws {
        let fields = try completion(#"{"prompt": "a"}"#).fields
        #expect(try fields.parameters(forChoice: 0, promptTokens: 56, maxContext: 256).maxTokens == 200)
    }

    @Test func contextOverflowNamesTheNumbers() throws {
        let fields = try completion(#"{"prompt": "a", "max_tokens": 250}"#).fields
        #expect(throws: APIError.self) { try fields.parameters(forChoice: 0, promptTokens: 10, maxContext: 256) }
        do {
            _ = try fields.parameters(forChoice: 0, promptTokens: 10, maxContext: 256)
        } catch let error as APIError {
            #expect(error.status == .badRequest)
            #expect(error.message.contains("256") && error.message.contains("260") && error.message.contains("10") && error.message.contains("250"))
        }
        #expect(throws: APIError.self) { try fields.parameters(forChoice: 0, promptTokens: 256, maxContext: 256) }
    }

    @Test(arguments: [
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (#"{"max_tokens": 5}"#, "needs a prompt"),
        (#"{"prompt": ""}"#, "empty"),
        (#"{"prompt": []}"#, "empty"),
        (#"{"prompt": [[]]}"#, "empty"),
        (#"{"prompt": 5}"#, "prompt must be"),
        (#"{"prompt": [true]}"#, "prompt must be"),
        (#"{"prompt": ["a", 1]}"#, "prompt must be"),
        (#"{"prompt": [-1]}"#, "outside the vocabulary"),
        (#"{"prompt": [1.5]}"#, "prompt must be"),
        (#"{"prompt": "a", "max_tokens": "5"}"#, "max_tokens must be an integer"),
        (#"{"prompt": "a", "max_tokens": 1.5}"#, "max_tokens must be an integer"),
        (#"{"prompt": "a", "max_tokens": 0}"#, "at least 1"),
        (#"{"prompt": "a", "temperature": "hot"}"#, "temperature must be a number"),
        (#"{"prompt": "a", "temperature": -0.1}"#, "temperature"),
        (#"{"prompt": "a", "temperature": 2.5}"#, "temperature"),
        (#"{"prompt": "a", "top_p": 0}"#, "top_p"),
        (#"{"prompt": "a", "top_p": 1.5}"#, "top_p"),
        (#"{"prompt": "a", "top_k": -2}"#, "top_k"),
        (#"{"prompt": "a", "top_k": 2.5}"#, "top_k must be an integer"),
        (#"{"prompt": "a", "min_p": 2}"#, "min_p"),
        (#"{"prompt": "a", "repetition_penalty": 0}"#, "repetition_penalty"),
        (#"{"prompt": "a", "presence_penalty": 3}"#, "presence_penalty"),
        (#"{"prompt": "a", "frequency_penalty": -3}"#, "frequency_penalty"),
        (#"{"prompt": "a", "seed": "x"}"#, "seed must be an integer"),
        (#"{"prompt": "a", "stop": 3}"#, "stop must be"),
        (#"{"prompt": "a", "stop": ["a", 3]}"#, "stop must be"),
        (#"{"prompt": "a", "n": 0}"#, "n must be"),
        (#"{"prompt": "a", "n": 17}"#, "n must be"),
        (#"{"prompt": "a", "stream": "yes"}"#, "stream must be a boolean"),
        (#"{"prompt": "a", "stream_options": true}"#, "stream_options must be an object"),
        (#"{"prompt": "a", "stream_options": {"include_usage": 1}}"#, "stream_options.include_usage must be a boolean"),
        (#"{"prompt": "a", "ignore_eos": "true"}"#, "ignore_eos must be a boolean"),
        (#"{"prompt": "a", "logprobs": 2}"#, "not supported"),
        (#"{"prompt": "a", "echo": true}"#, "not supported"),
        (#"{"prompt": "a", "best_of": 2}"#, "not supported"),
        (#"{"prompt": "a", "model": 7}"#, "model must be a string"),
    ])
    func rejected(body: String, message: String) {
        let error = rejection(body)
        #expect(error?.status == .badRequest, "\(body)")
        #expect(error?.message.contains(message) == true, "\(body): \(error?.message ?? "accepted")")
        #expect(error?.type == "invalid_request_error")
    }

    @Test func errorBodyIsOpenAIShaped() throws {
        let error = APIError.badRequest("bad", parameter: "temperature")
        let json = try JSONSerialization.jsonObject(with: error.body) as? [String: Any]
        let inner = json?["error"] as? [String: Any]
        #expect(inner?["message"] as? String == "bad")
        #expect(inner?["type"] as? String == "invalid_request_error")
        #expect(inner?["param"] as? String == "temperature")
        #expect(inner?["code"] is NSNull)
    }
}
