import Foundation
@testable import Swiftlet
import Testing
@testable import SwiftletServer

/// Random bodies through the request decoders: each is accepted or refused with a 400,
/// never anything else (no crash, no 5xx), and an accepted one maps to valid parameters.
@Suite struct RequestDecoderFuzzTests {
    /// SplitMix64: reproducible runs.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let keys = ["prompt", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p",
                       "repetition_penalty", "presence_penalty", "frequency_penalty", "seed", "stop", "n", "stream",
                       "stream_options", "include_usage", "ignore_eos", "logprobs", "top_logprobs", "echo", "best_of",
                       "suffix", "model", "role", "content", "type", "text", "tools", "response_format", "x"]

    func value(_ g: inout Generator, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 2 ? 6 : 8), using: &g) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &g))
        case 2: return .integer([0, 1, -1, 2, 17, 255, 1023, 1024, Int64.max, Int64.min, Int64.random(in: -5...300, using: &g)].randomElement(using: &g)!)
        case 3: return .number([0.5, -0.1, 1.0, 2.5, 1e300, -1e-300, Double.random(in: -3...3, using: &g)].randomElement(using: &g)!)
        case 4: return .string(["", "ROMEO:", "user", "assistant", "system", "text", "\n", "é🙂", String(repeating: "a", count: 50)].randomElement(using: &g)!)
        case 5: return .string(Self.keys.randomElement(using: &g)!)
        case 6: return .array((0..<Int.random(in: 0...4, using: &g)).map { _ in value(&g, depth: depth + 1) })
        default:
            var fields: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &g) { fields[Self.keys.randomElement(using: &g)!] = value(&g, depth: depth + 1) }
            return .object(fields)
        }
    }

    func body(_ g: inout Generator) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        if Bool.random(using: &g) { fields["prompt"] = value(&g, depth: 1) }
        if Bool.random(using: &g) {
            fields["messages"] = .array((0..<Int.random(in: 0...3, using: &g)).map { _ in
                .object(["role": Bool.random(using: &g) ? .string(["user", "system", "assistant", "bot"].randomElement(using: &g)!) : value(&g, depth: 2),
                         "content": value(&g, depth: 2)])
            })
        }
        for _ in 0..<Int.random(in: 0...8, using: &g) { fields[Self.keys.randomElement(using: &g)!] = value(&g, depth: 1) }
        return .object(fields)
    }

    @Test func randomBodiesAreAcceptedOrRefusedWith400() throws {
        var g = Generator(state: 2026)
        var accepted = 0, refused = 0
        for _ in 0..<20_000 {
            let json = body(&g)
            for decode in [{ _ = try CompletionRequest(json: json) }, { _ = try ChatCompletionRequest(json: json) }] as [() throws -> Void] {
                do {
                    try decode()
                    accepted += 1
                } catch let error as APIError {
                    #expect(error.status == .badRequest, "\(json): \(error)")
                    refused += 1
                }
            }
            if let request = try? CompletionRequest(json: json) {
                let parameters = try? request.fields.parameters(forChoice: 3, promptTokens: 5, maxContext: 256)
                if let parameters { #expect((try? parameters.sampling.validate()) != nil, "\(json)") }
            }
        }
        #expect(accepted > 100 && refused > 100, "\(accepted) accepted, \(refused) refused")
    }

    @Test func deepNestingIsRefusedWithoutCrashing() {
        for text in [String(repeating: "[", count: 100_000), String(repeating: "{\"a\":", count: 50_000) + "1" + String(repeating: "}", count: 50_000)] {
            #expect(throws: APIError.self) { _ = try CompletionRequest(json: JSONValue.parse(Data(text.utf8))) }
        }
    }

    @Test func randomBytesAreRefusedWith400() {
        var g = Generator(state: 7)
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0...64, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            do {
                _ = try CompletionRequest(json: JSONValue.parse(Data(bytes)))
            } catch let error as APIError {
                #expect(error.status == .badRequest)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
