import Foundation
import Testing
@testable import Swiftlet

/// Runs the built `swiftlet` executable (next to the test bundle), with `input` on its
/// standard input when given.
func runSwiftlet(_ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let process = Process()
    process.executableURL = directory.appendingPathComponent("swiftlet")
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = input.map { _ in Pipe() }
    if let stdin { process.standardInput = stdin }
    try process.run()
    if let input, let stdin {
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

@Suite("Command line")
struct CommandLineTests {
    struct GenerateJSON: Decodable {
        let prompt_tokens: [Int32]
        let tokens: [Int32]
        let text: String?
        let finish_reason: String
        struct Stats: Decodable {
            let prompt_token_count: Int, generated_token_count: Int
            let time_to_first_token_ms: Double, prefill_tokens_per_second: Double
            let decode_tokens_per_second: Double, total_seconds: Double
        }
        let stats: Stats
    }

    /// The acceptance check of the core engine: `generate --json` on every reference model.
    @Test(.enabled(if: SharedFixtures.available, SharedFixtures.skipMessage),
          arguments: [("tinygqa.gguf", "tinygqa"), ("tinygqa-f16.gguf", "tinygqa-f16"), ("tinygqa-q8_0.gguf", "tinygqa-q8_0"), ("stories260K.bin", "stories260K")])
    func generateJSONMatchesReference(file: String, expected name: String) throws {
        let expected = try SharedFixtures.expected(name)
        let prompt = name == "stories260K" ? "1" : expected.prompt_ids.map(String.init).joined(separator: ",")
        let run = try runSwiftlet(["generate", "--model", SharedFixtures.path("models/\(file)"), "--prompt-tokens", prompt,
                                   "--temperature", "0", "--ignore-eos", "--max-tokens", "32", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONDecoder().decode(GenerateJSON.self, from: Data(run.stdout.utf8))
        #expect(output.tokens == Array(expected.greedy_ids.prefix(32)))
        #expect(output.finish_reason == "length")
        #expect(output.stats.generated_token_count == 32)
        #expect(output.stats.decode_tokens_per_second > 0)
        #expect((output.text == nil) == (name == "stories260K"))
    }

    @Test func badInputGivesOneErrorLineAndNonZeroExit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-cli-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let corrupt = directory.appendingPathComponent("corrupt.gguf").path
        var bytes = TestModels.tiny()
        bytes.removeLast(bytes.count / 2)
        _ = FileManager.default.createFile(atPath: corrupt, contents: Data(bytes))
        let good = directory.appendingPathComponent("good.gguf").path
        _ = FileManager.default.createFile(atPath: good, contents: Data(TestModels.tiny()))

        let cases: [([String], String)] = [
            (["generate", "--model", "/nonexistent/model.gguf", "--prompt", "hi"], "cannot open"),
            (["generate", "--model", corrupt, "--prompt", "hi"], "past the end"),
            (["generate", "--model", good, "--prompt-tokens", "1,x"], "not a token id"),
            (["generate", "--model", good, "--prompt-tokens", "1,100000"], "outside the vocabulary"),
            (["generate", "--model", good, "--prompt", "a", "--prompt-tokens", "1"], "exactly one"),
            (["generate", "--model", good, "--prompt", "a", "--top-p", "2"], "top"),
            (["generate", "--model", good, "--prompt", "a", "--threads", "0"], "--threads"),
            (["generate", "--model", good, "--prompt", "a", "--kv-cache-type", "q4"], "--kv-cache-type"),
            (["bench-kernels", "--attention", "--heads", "5x2x8"], "--heads"),
            (["bench-kernels", "--model", good, "--rows", "1,4", "--context", "65536"], "--context plus the largest --rows"),
            (["bench-kernels", "--model", corrupt], "past the end"),
            (["generate", "--model", good, "--prompt", "a", "--bogus-flag"], "bogus"),
            (["inspect", "--model", corrupt], "past the end"),
        ]
        for (arguments, message) in cases {
            let run = try runSwiftlet(arguments)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderr.lowercased().contains(message.lowercased()), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments)")
        }
    }

    @Test func generateStreamsTextAndStats() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-cli2-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.gguf").path
        _ = FileManager.default.createFile(atPath: good, contents: Data(TestModels.tiny()))
        let run = try runSwiftlet(["generate", "--model", good, "--prompt", "the", "--max-tokens", "8", "--seed", "1", "--ignore-eos"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.isEmpty)
        #expect(run.stderr.contains("decode:") && run.stderr.contains("tok/s") && run.stderr.contains("time to first token"))
        // Whole forward steps by token count, each against the one-token step.
        let steps = try runSwiftlet(["bench-kernels", "--model", good, "--rows", "1,3", "--context", "4", "--seconds", "0.01"])
        #expect(steps.status == 0, "\(steps.stderr)")
        let rows = steps.stdout.split(separator: "\n").map { $0.split(separator: " ") }.filter { Int($0.first ?? "") != nil }
        #expect(rows.map { $0[0] } == ["1", "3"], "\(steps.stdout)")
        #expect(rows.first?[2] == "1.00x" && (Double(rows.last?[1] ?? "") ?? 0) > 0, "\(steps.stdout)")
        let inspect = try runSwiftlet(["inspect", "--model", good])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("blk.0.attn_q.weight"))
    }
}
