import Foundation
import Testing
@testable import Swiftlet

@Suite("Batch command")
struct BatchCommandTests {
    /// One output line of `swiftlet batch`.
    struct Record: Decodable {
        struct Metrics: Decodable {
            let ttft_ms: Double?
            let decode_tokens_per_second: Double?
            let queue_ms: Double?
            let e2e_ms: Double?
            let generated_tokens: Int
        }
        struct Failure: Decodable { let message: String }
        let id: JSONValue
        let text: String?
        let tokens: [Int32]?
        let prompt_tokens: Int?
        let finish_reason: String?
        let metrics: Metrics?
        let error: Failure?
    }

    /// A temporary folder with a tiny model (context 64); removed by `cleanUp`.
    struct Workspace {
        let directory: URL
        let modelBytes: [UInt8]
        var model: String { directory.appendingPathComponent("model.gguf").path }
        var input: String { directory.appendingPathComponent("requests.jsonl").path }
        var output: String { directory.appendingPathComponent("results.jsonl").path }

        init(_ name: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-batch-\(name)-\(getpid())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            modelBytes = TestModels.tiny(context: 64)
            _ = FileManager.default.createFile(atPath: model, contents: Data(modelBytes))
        }

        /// Writes `lines` as the input and runs `swiftlet batch` on it.
        func run(_ lines: [String], _ extra: [String] = []) throws -> (status: Int32, stderr: String, records: [Record]) {
            _ = FileManager.default.createFile(atPath: input, contents: Data(lines.joined(separator: "\n").utf8))
            try? FileManager.default.removeItem(atPath: output)
            let run = try runSwiftlet(["batch", "--model", model, "--input", input, "--output", output, "--threads", "2"] + extra)
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let records = try text.split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
            return (run.status, run.stderr, records)
        }

        func cleanUp() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func resultsComeInInputOrderWithTheirIds() throws {
        let workspace = try Workspace("order")
        defer { workspace.cleanUp() }
        // Early requests are long and late ones short, so they finish out of order.
        var lines: [String] = []
        var expectedIDs: [JSONValue] = []
        for i in 0..<12 {
            let maxTokens = 24 - 2 * i
            let id: String
            switch i % 4 {
            case 0: id = "\"req-\(i)\""; expectedIDs.append(.string("req-\(i)"))
            case 1: id = "\(1000 + i)"; expectedIDs.append(.integer(Int64(1000 + i)))
            case 2: id = "\(i).5"; expectedIDs.append(.number(Double(i) + 0.5))
            default: id = "null"; expectedIDs.append(.integer(Int64(lines.count + 1)))  // the line number
            }
            lines.append("{\"id\": \(id), \"prompt_tokens\": [1, \(10 + i), \(20 + i)], \"max_tokens\": \(maxTokens), \"seed\": \(i), \"ignore_eos\": true}")
            if i == 5 { lines.append("   ") }  // skipped, but counts for line numbers
        }
        let run = try workspace.run(lines)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.records.map(\.id) == expectedIDs)
        for (i, record) in run.records.enumerated() {
            #expect(record.error == nil)
            #expect(record.tokens?.count == 24 - 2 * i)
            #expect(record.prompt_tokens == 3)
            #expect(record.finish_reason == "length")
            #expect(record.text != nil)
            #expect(record.metrics?.generated_tokens == 24 - 2 * i)
            #expect((record.metrics?.ttft_ms ?? -1) >= 0 && (record.metrics?.e2e_ms ?? -1) >= (record.metrics?.ttft_ms ?? 0))
            #expect((record.metrics?.queue_ms ?? -1) >= 0)
            #expect((record.metrics?.decode_tokens_per_second ?? 0) > 0)
        }
        // stderr is a pipe here: no progress bar, one summary line.
        #expect(run.stderr.contains("12 requests") && run.stderr.contains("tok/s"), "\(run.stderr)")
        #expect(!run.stderr.contains("\r"))
    }

    @Test func greedyResultsEqualEngineComplete() async throws {
        let workspace = try Workspace("greedy")
        defer { workspace.cleanUp() }
        let requests: [(prompt: Prompt, json: String, maxTokens: Int, stop: [String])] = [
            (.text("the"), "\"prompt\": \"the\"", 20, []),
            (.tokens([1, 50, 60, 70]), "\"prompt_tokens\": [1, 50, 60, 70]", 16, []),
            (.text("a tent in the"), "\"prompt\": \"a tent in the\"", 30, ["e"]),
            (.tokens([5]), "\"prompt_tokens\": [5]", 1, []),
            (.text("nd on"), "\"prompt\": \"nd on\"", 25, []),
        ]
        let lines = requests.enumerated().map { i, r in
            "{\"id\": \(i), \(r.json), \"max_tokens\": \(r.maxTokens), \"temperature\": 0, \"stop\": \(r.stop), \"ignore_eos\": true}"
        }
        let run = try workspace.run(lines)
        #expect(run.status == 0, "\(run.stderr)")
        try #require(run.records.count == requests.count)

        let engine = try Engine(model: TestModels.load(workspace.modelBytes),
                                configuration: EngineConfiguration(threadCount: 2, maxSequences: 1, kvCacheMegabytes: 8))
        defer { engine.shutdown() }
        for (i, request) in requests.enumerated() {
            let parameters = GenerationParameters(maxTokens: request.maxTokens, sampling: .greedy,
                                                  stopSequences: request.stop, ignoreEOS: true)
            let expected = try await engine.complete(prompt: request.prompt, parameters: parameters)
            let record = run.records[i]
            #expect(record.id == .integer(Int64(i)))
            #expect(record.tokens == expected.tokens, "request \(i)")
            #expect(record.text == expected.text, "request \(i)")
            #expect(record.finish_reason == expected.finishReason.rawValue, "request \(i)")
            #expect(record.prompt_tokens == expected.promptTokens.count, "request \(i)")
        }
    }

    @Test func malformedLinesBecomeErrorRecordsWithoutDisturbingTheOthers() throws {
        let workspace = try Workspace("malformed")
        defer { workspace.cleanUp() }
        let good = [
            "{\"id\": \"g1\", \"prompt\": \"the\", \"max_tokens\": 12, \"temperature\": 0, \"ignore_eos\": true}",
            "{\"id\": \"g2\", \"prompt_tokens\": [1, 7, 8], \"max_tokens\": 9, \"temperature\": 0, \"ignore_eos\": true}",
            "{\"id\": \"g3\", \"prompt\": \"on the\", \"max_tokens\": 5, \"temperature\": 0, \"ignore_eos\": true}",
        ]
        let longPrompt = (0..<80).map { _ in "5" }.joined(separator: ",")
        let bad: [(line: String, id: JSONValue, message: String)] = [
            ("{\"id\": \"x\", \"prompt\": ", .integer(0), "not valid JSON"),
            ("{\"id\": \"t\", \"prompt\": \"hi\", \"max_tokens\": \"ten\"}", .string("t"), "max_tokens must be an integer"),
            ("{\"id\": \"e\", \"prompt\": \"\"}", .string("e"), "empty"),
            ("{\"id\": 17, \"prompt_tokens\": [1, 300]}", .integer(17), "outside the vocabulary"),
            ("{\"id\": \"long\", \"prompt_tokens\": [\(longPrompt)]}", .string("long"), "the context holds 64"),
            ("{\"id\": \"p\", \"prompt\": \"hi\", \"top_p\": 2}", .string("p"), "topP"),
            ("{\"id\": \"n\", \"prompt\": \"hi\", \"temperature\": -1}", .string("n"), "temperature"),
            ("{\"id\": [1], \"prompt\": \"hi\"}", .integer(0), "id must be a string or a number"),
            ("{\"prompt\": \"hi\", \"tokens\": 3}", .integer(0), "unknown field 'tokens'"),
            ("{\"id\": \"none\"}", .string("none"), "needs a prompt"),
            ("\"just a string\"", .integer(0), "not an object"),
        ]
        // good[0], then the bad lines with the other good ones and a blank line among them.
        var lines = [good[0]]
        var expected: [(id: JSONValue, message: String?)] = [(.string("g1"), nil)]
        for (index, entry) in bad.enumerated() {
            if index == 4 { lines.append(good[1]); expected.append((.string("g2"), nil)) }
            if index == 7 { lines.append("") }
            lines.append(entry.line)
            // A line without a readable id is answered under its line number.
            expected.append((entry.id == .integer(0) ? .integer(Int64(lines.count)) : entry.id, entry.message))
        }
        lines.append(good[2])
        expected.append((.string("g3"), nil))

        let run = try workspace.run(lines)
        #expect(run.status == 0, "\(run.stderr)")
        try #require(run.records.count == expected.count, "\(run.records.map(\.id))")
        for (record, want) in zip(run.records, expected) {
            #expect(record.id == want.id)
            if let message = want.message {
                #expect(record.error?.message.contains(message) == true, "\(want.id): \(record.error?.message ?? "no error")")
                #expect(record.tokens == nil && record.metrics == nil)
            } else {
                #expect(record.error == nil, "\(want.id)")
            }
        }
        #expect(run.stderr.contains("(\(bad.count) errors)"), "\(run.stderr)")

        // The good requests alone give the same results.
        let alone = try workspace.run(good)
        let mixed = run.records.filter { $0.error == nil }
        #expect(alone.records.map(\.tokens) == mixed.map(\.tokens))
        #expect(alone.records.map(\.text) == mixed.map(\.text))
    }

    @Test func missingInputOrUnwritableOutputFailsWithOneErrorLine() throws {
        let workspace = try Workspace("files")
        defer { workspace.cleanUp() }
        _ = FileManager.default.createFile(atPath: workspace.input, contents: Data("{\"prompt\": \"hi\"}\n".utf8))
        let cases: [([String], String)] = [
            (["--input", workspace.directory.appendingPathComponent("missing.jsonl").path, "--output", workspace.output], "no such file"),
            (["--input", workspace.input, "--output", "/nonexistent/folder/results.jsonl"], "cannot write --output"),
            (["--input", workspace.input, "--output", workspace.directory.path], "cannot write --output"),
            (["--input", workspace.input, "--output", workspace.input], "is the input file"),
            (["--input", workspace.input, "--output", workspace.output, "--max-tokens", "0"], "--max-tokens"),
        ]
        for (arguments, message) in cases {
            let run = try runSwiftlet(["batch", "--model", workspace.model] + arguments)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("Error:"), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        #expect(try String(contentsOfFile: workspace.input, encoding: .utf8) == "{\"prompt\": \"hi\"}\n")
    }

    @Test func lineParsingTakesDefaultsAndChecksTypes() throws {
        var defaults = GenerationParameters(maxTokens: 7, sampling: SamplingParameters(temperature: 0.5, topK: 3))
        defaults.ignoreEOS = true
        func parse(_ line: String, number: Int = 4) throws -> BatchRequest {
            try BatchRequest.parse(line: Data(line.utf8), lineNumber: number, defaults: defaults)
        }
        let plain = try parse("{\"prompt\": \"hi\"}")
        #expect(plain == BatchRequest(id: .integer(4), prompt: .text("hi"), parameters: defaults))

        let full = try parse("""
            {"id": "z", "prompt_tokens": [1, 2], "max_tokens": 3.0, "temperature": 1, "top_p": 0.5, "top_k": 2, \
            "min_p": 0.1, "seed": 9, "stop": "\\n", "ignore_eos": false, "repeat_penalty": 1.1, \
            "frequency_penalty": 0.2, "presence_penalty": -0.3}
            """)
        #expect(full.id == .string("z"))
        #expect(full.prompt == .tokens([1, 2]))
        let p = full.parameters
        #expect(p.maxTokens == 3 && p.stopSequences == ["\n"] && !p.ignoreEOS)
        #expect(p.sampling == SamplingParameters(temperature: 1, topK: 2, topP: 0.5, minP: 0.1, repetitionPenalty: 1.1,
                                                 frequencyPenalty: 0.2, presencePenalty: -0.3, seed: 9))
        #expect(try parse("{\"prompt\": \"a\", \"stop\": [\"x\", \"y\"]}").parameters.stopSequences == ["x", "y"])

        let failures: [(String, String)] = [
            ("{\"prompt\": \"a\", \"stop\": [1]}", "stop must be a string or an array of strings"),
            ("{\"prompt\": \"a\", \"ignore_eos\": 1}", "ignore_eos must be a boolean"),
            ("{\"prompt\": \"a\", \"seed\": -1}", "seed must be a non-negative integer"),
            ("{\"prompt\": \"a\", \"top_k\": 1.5}", "top_k must be an integer"),
            ("{\"prompt_tokens\": []}", "prompt_tokens is empty"),
            ("{\"prompt_tokens\": [1, \"2\"]}", "every item of prompt_tokens must be an integer"),
            ("{\"prompt_tokens\": [3000000000]}", "outside the vocabulary"),
            ("{\"id\": 5, \"prompt\": \"a\", \"prompt_tokens\": [1]}", "not both"),
        ]
        for (line, message) in failures {
            let failure = #expect(throws: BatchRequestError.self) { try parse(line) }
            #expect(failure?.message.contains(message) == true, "\(line): \(failure?.message ?? "")")
            #expect(failure?.id == (line.contains("\"id\": 5") ? .integer(5) : .integer(4)))
        }
    }

    /// OpenAI Batch lines: one output line each, in input order, the server's response
    /// objects as bodies, error records for lines that cannot run; `--resume` after a torn
    /// run keeps the finished lines and ends with every line exactly once.
    @Test func openAIBatchLinesAndResume() throws {
        let workspace = try Workspace("openai")
        defer { workspace.cleanUp() }
        var lines: [String] = []
        for i in 0..<12 {
            switch i % 4 {
            case 0: lines.append("{\"custom_id\": \"c\(i)\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"the \(i)\", \"max_tokens\": \(2 + i % 3), \"temperature\": 0}}")
            case 1: lines.append("{\"custom_id\": \"c\(i)\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": [[1, 5, \(i)], [1, 9]], \"n\": 2, \"max_tokens\": 3, \"temperature\": 0}}")
            case 2: lines.append("{\"custom_id\": \"c\(i)\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {\"messages\": [{\"role\": \"user\", \"content\": \"hi \(i)\"}], \"max_tokens\": 3, \"temperature\": 0}}")
            default: lines.append(["{\"custom_id\": \"c\(i)\", \"url\": \"/v1/embeddings\", \"body\": {}}",
                                   "{\"custom_id\": \"c\(i)\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"x\", \"temperature\": 9}}",
                                   "{\"custom_id\": \"c0\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"x\"}}"][i / 4])
            }
        }
        lines.insert("{\"custom_id\": \"broken\", \"url\": ", at: 5)
        _ = FileManager.default.createFile(atPath: workspace.input, contents: Data(lines.joined(separator: "\n").utf8))
        let run = try runSwiftlet(["batch", "--model", workspace.model, "--input", workspace.input, "--output", workspace.output, "--threads", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("openai format") && run.stderr.contains("(4 errors)") && run.stderr.contains("tok/s system"), "\(run.stderr)")
        let full = try String(contentsOfFile: workspace.output, encoding: .utf8)
        let records = try full.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(records.count == lines.count)
        #expect(records.map { $0["custom_id"] as? String } == lines.map { OpenAIBatchLine.customID(in: Data($0.utf8)) })
        for (line, record) in zip(lines, records) {
            let response = record["response"] as? [String: Any]
            if line.contains("embeddings") || line.contains("\"temperature\": 9") || line.contains("\"c0\", \"url\"") || line.hasSuffix(": ") {
                #expect(response == nil && (record["error"] as? [String: Any])?["message"] != nil, "\(line)")
                continue
            }
            #expect(record["error"] is NSNull, "\(line)")
            #expect(response?["status_code"] as? Int == 200)
            let body = try #require(response?["body"] as? [String: Any])
            let choices = try #require(body["choices"] as? [[String: Any]])
            if line.contains("chat/completions") {
                #expect(body["object"] as? String == "chat.completion" && choices.count == 1)
            } else {
                #expect(body["object"] as? String == "text_completion")
                #expect(choices.count == (line.contains("\"n\": 2") ? 4 : 1))
            }
            #expect((body["usage"] as? [String: Any])?["completion_tokens"] as? Int != nil)
        }

        // A run killed after 6 lines, the 7th torn: --resume keeps 6 and runs the rest.
        let kept = full.split(separator: "\n", omittingEmptySubsequences: false).prefix(6).joined(separator: "\n") + "\n{\"id\": \"tor"
        _ = FileManager.default.createFile(atPath: workspace.output, contents: Data(kept.utf8))
        let resumed = try runSwiftlet(["batch", "--model", workspace.model, "--input", workspace.input, "--output", workspace.output,
                                       "--threads", "2", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("(6 kept from the earlier run)"), "\(resumed.stderr)")
        let again = try String(contentsOfFile: workspace.output, encoding: .utf8).split(separator: "\n")
        #expect(again.count == lines.count)
        #expect(Array(again.prefix(6)) == Array(full.split(separator: "\n").prefix(6)))
        func texts(_ lines: [Substring]) throws -> [String] {
            try lines.map { line in
                let record = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let body = (record["response"] as? [String: Any])?["body"] as? [String: Any]
                let data = try JSONSerialization.data(withJSONObject: body?["choices"] ?? record["error"] ?? NSNull(), options: [.sortedKeys, .fragmentsAllowed])
                return "\(record["custom_id"] ?? "") \(String(decoding: data, as: UTF8.self))"
            }
        }
        #expect(try texts(again) == texts(full.split(separator: "\n")))
        // Resuming a finished output runs nothing; an output of another input is refused.
        let done = try runSwiftlet(["batch", "--model", workspace.model, "--input", workspace.input, "--output", workspace.output, "--resume"])
        #expect(done.status == 0 && done.stderr.contains("(\(lines.count) kept"), "\(done.stderr)")
        _ = FileManager.default.createFile(atPath: workspace.output, contents: Data("{\"custom_id\": \"other\"}\n".utf8))
        let other = try runSwiftlet(["batch", "--model", workspace.model, "--input", workspace.input, "--output", workspace.output, "--resume"])
        #expect(other.status != 0 && other.stderr.contains("another input"), "\(other.stderr)")
    }
}
