import Foundation
import Testing
@testable import Swiftlet

/// `swiftlet bench --json`: one object per line with the documented keys, for batching,
/// speculation and shared prefixes.
@Suite("Bench command")
struct BenchCommandTests {
    static func lines(_ arguments: [String]) throws -> [[String: Any]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-bench-\(getpid())-\(arguments.count)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("m.gguf").path
        _ = FileManager.default.createFile(atPath: model, contents: Data(TestModels.tiny()))
        let run = try runSwiftlet(["bench", "--model", model, "--threads", "2", "--json"] + arguments)
        #expect(run.status == 0, "\(run.stderr)")
        return try run.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    @Test func batchingRowsHaveTheDocumentedKeys() throws {
        let rows = try Self.lines(["--concurrency", "1,4", "--prompt-length", "8", "--gen-length", "6"])
        #expect(rows.count == 4)
        #expect(rows.map { $0["mode"] as? String } == ["batched", "sequential", "batched", "sequential"])
        for key in ["concurrency", "mode", "requests", "prompt_length", "gen_length", "total_tokens_per_second",
                    "generated_tokens_per_second", "request_tokens_per_second_p50", "ttft_ms_p50", "ttft_ms_p99",
                    "itl_ms_p50", "itl_ms_p99", "peak_kv_blocks"] {
            #expect(rows.allSatisfy { $0[key] != nil }, "missing \(key)")
        }
        #expect(rows[2]["requests"] as? Int == 4)
        #expect((rows[3]["batched_over_sequential"] as? Double ?? 0) > 0)
    }

    @Test func speculativeRowsCompareWithPlain() throws {
        let rows = try Self.lines(["--draft", "ngram", "--draft-tokens", "2", "--concurrency", "1", "--gen-length", "8", "--prompt-length", "6"])
        // Two temperatures x (plain, K=2, adaptive up to 2).
        #expect(rows.count == 6)
        #expect(Set(rows.compactMap { $0["mode"] as? String }) == ["plain", "speculative"])
        for key in ["mode", "draft_tokens", "temperature", "concurrency", "generated_tokens_per_second",
                    "acceptance_rate", "mean_tokens_per_target_step"] {
            #expect(rows.allSatisfy { $0[key] != nil }, "missing \(key)")
        }
        // Per-step costs: every mode decodes; only rows that proposed drafts spent time drafting.
        #expect(rows.allSatisfy { ($0["decode_step_ms"] as? Double ?? 0) > 0 })
        #expect(rows.allSatisfy { (($0["draft_ms_per_step"] as? Double ?? -1) > 0) == (($0["draft_tokens_proposed"] as? Int ?? 0) > 0) })
        #expect(rows.contains { ($0["draft_tokens_proposed"] as? Int ?? 0) > 0 })
    }

    /// With repetitions, the settings take turns run by run (a machine that drifts moves them
    /// alike), and each speedup is a ratio to plain measured in the same rounds.
    @Test func speculativeRepetitionsTakeTurns() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-bench-turns-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("m.gguf").path
        _ = FileManager.default.createFile(atPath: model, contents: Data(TestModels.tiny()))
        let run = try runSwiftlet(["bench", "--model", model, "--threads", "2", "--json", "--draft", "ngram", "--draft-tokens", "2",
                                   "--concurrency", "1", "--temperatures", "0", "--gen-length", "6", "--prompt-length", "6", "--repetitions", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        let progress = run.stderr.split(separator: "\n").filter { $0.hasPrefix("bench: concurrency") }.map { line in
            String(line.split(separator: ",")[2].trimmingCharacters(in: .whitespaces)) + "/" + String(line.split(separator: ",")[3].split(separator: " ")[1])
        }
        #expect(progress == ["plain/1", "draft 2/1", "adaptive up to 2/1", "plain/2", "draft 2/2", "adaptive up to 2/2"], "\(progress)")
        let rows = try run.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count == 3)
        #expect(rows[0]["mode"] as? String == "plain" && rows[0]["speedup_over_plain"] as? Double == 1)
        #expect(rows.dropFirst().allSatisfy { ($0["speedup_over_plain"] as? Double ?? 0) > 0 })
    }

    @Test func sharedPrefixRowsAreColdAndWarmWithTheCacheOnAndOff() throws {
        let rows = try Self.lines(["--shared-prefix-tokens", "40", "--prompt-length", "4", "--gen-length", "2", "--concurrency", "4"])
        #expect(rows.count == 4)
        let states = rows.map { "\($0["prefix_state"] ?? "")/\($0["prefix_cache"] ?? "")" }
        #expect(Set(states) == ["cold/on", "warm/on", "cold/off", "warm/off"])
        let warmOn = try #require(rows.first { $0["prefix_state"] as? String == "warm" && $0["prefix_cache"] as? String == "on" })
        #expect((warmOn["prefix_hit_rate"] as? Double ?? 0) > 0)
        let coldOff = try #require(rows.first { $0["prefix_state"] as? String == "cold" && $0["prefix_cache"] as? String == "off" })
        #expect(coldOff["prefix_hit_rate"] as? Double == 0)
    }
}
