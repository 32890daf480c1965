import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet bench`: the same request set through the continuous-batching engine and one
/// request at a time, per concurrency level; a llama-bench style table or JSON lines.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure tokens per second with and without batching (TTFT, inter-token latency, throughput).")

    @OptionGroup var engine: EngineOptions

    @Option(help: "Prompt tokens per request (random ids, BOS first).")
    var promptLength: Int = 32

    @Option(help: "Generated tokens per request (end-of-generation ignored).")
    var genLength: Int = 128

    @Option(help: "Requests in flight at once, comma separated.")
    var concurrency: String = "1,4,16,64"

    @Option(help: "Requests per concurrency level (default: the concurrency, at least 4).")
    var requests: Int?

    @Option(help: "all-at-once, or poisson:RATE (requests per second).")
    var arrival: String = "all-at-once"

    @Option(help: "Runs per setting; the median run by total tok/s is reported.")
    var repetitions: Int = 1

    @Option(help: "Modes to run, comma separated: batched, sequential.")
    var modes: String = "batched,sequential"

    @Option(help: "Seed of the random prompts.")
    var seed: UInt64 = 1

    @Flag(help: "One JSON object per line and mode instead of the table.")
    var json = false

    func validate() throws {
        guard promptLength >= 1 else { throw ValidationError("--prompt-length must be at least 1") }
        guard genLength >= 1 else { throw ValidationError("--gen-length must be at least 1") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        _ = try concurrencyLevels()
        _ = try arrivalRate()
        _ = try modeList()
    }

    func concurrencyLevels() throws -> [Int] {
        try concurrency.split(separator: ",").map {
            guard let c = Int($0), c >= 1, c <= 4096 else { throw ValidationError("--concurrency: '\($0)' is not a count between 1 and 4096") }
            return c
        }
    }

    func arrivalRate() throws -> Double? {
        if arrival == "all-at-once" { return nil }
        guard arrival.hasPrefix("poisson:"), let rate = Double(arrival.dropFirst(8)), rate > 0, rate.isFinite else {
            throw ValidationError("--arrival must be all-at-once or poisson:RATE with RATE > 0")
        }
        return rate
    }

    func modeList() throws -> [String] {
        let list = modes.split(separator: ",").map(String.init)
        guard !list.isEmpty, list.allSatisfy({ $0 == "batched" || $0 == "sequential" }) else {
            throw ValidationError("--modes takes batched and/or sequential")
        }
        return list
    }

    func run() async throws {
        let levels = try concurrencyLevels()
        let rate = try arrivalRate()
        let model = try ModelLoader.load(path: engine.modelPath())
        var rows: [BenchRow] = []
        if !json { BenchRow.printHeader() }
        for level in levels {
            let count = requests ?? max(level, 4)
            var config = engine.engineConfiguration
            config.maxSequences = max(level, 1)
            // Room for every in-flight request's whole sequence unless the user sized it.
            if !CommandLine.arguments.contains("--kv-cache-mb") {
                let tokens = level * (promptLength + genLength + config.blockSize)
                config.kvCacheBlocks = tokens / config.blockSize + 1
            }
            let engineInstance = try Engine(model: model, configuration: config)
            defer { engineInstance.shutdown() }
            let prompts = Workload.randomPrompts(count: count, length: promptLength, vocabularySize: model.configuration.vocabularySize,
                                                 bos: engineInstance.tokenizer?.vocabulary.specialTokens.bos ?? 1, seed: seed)
            let parameters = GenerationParameters(maxTokens: genLength, sampling: .greedy, ignoreEOS: true)
            let workload = Workload(prompts: prompts, parameters: parameters,
                                    arrivalOffsets: rate.map { Workload.poissonOffsets(count: count, rate: $0, seed: seed) })
            // Warm up: page in the weights, spin up the threads.
            _ = try await engineInstance.complete(prompt: .tokens(Array(prompts[0].prefix(8))), parameters: GenerationParameters(maxTokens: 4, sampling: .greedy, ignoreEOS: true))
            var batchedThroughput: Double?
            for mode in try modeList() {
                var reports: [WorkloadReport] = []
                for repetition in 0..<repetitions {
                    printError("bench: concurrency \(level), \(mode), run \(repetition + 1)/\(repetitions), \(count) requests...")
                    reports.append(try await WorkloadRunner.run(workload, on: engineInstance, concurrency: mode == "batched" ? level : 1))
                }
                let report = reports.sorted { $0.totalTokensPerSecond < $1.totalTokensPerSecond }[reports.count / 2]
                var row = BenchRow(mode: mode, concurrency: level, promptLength: promptLength, genLength: genLength, report: report)
                if mode == "batched" { batchedThroughput = report.totalTokensPerSecond }
                if mode == "sequential", let batched = batchedThroughput { row.batchedOverSequential = batched / report.totalTokensPerSecond }
                rows.append(row)
                if json { print(row.jsonLine()) } else { row.printRow() }
            }
        }
    }
}

/// One line of `bench` output.
struct BenchRow {
    let mode: String
    let concurrency: Int
    let promptLength: Int
    let genLength: Int
    let report: WorkloadReport
    var batchedOverSequential: Double?

    static func printHeader() {
        print("| mode       | conc | reqs | total tok/s | gen tok/s | decode tok/s | req tok/s p50 | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms | peak KV | batched/seq |")
        print("|------------|-----:|-----:|------------:|----------:|-------------:|--------------:|------------:|------------:|-----------:|-----------:|--------:|------------:|")
    }

    func printRow() {
        let r = report
        print(String(format: "| %@ | %4d | %4d | %11.1f | %9.1f | %12.1f | %13.1f | %11.1f | %11.1f | %10.2f | %10.2f | %7d | %11@ |",
                     mode.padding(toLength: 10, withPad: " ", startingAt: 0), concurrency, r.results.count, r.totalTokensPerSecond, r.generatedTokensPerSecond, r.decodeTokensPerSecond,
                     r.requestTokensPerSecond(50) ?? 0, (r.timeToFirstToken(50) ?? 0) * 1000, (r.timeToFirstToken(99) ?? 0) * 1000,
                     (r.interTokenLatency(50) ?? 0) * 1000, (r.interTokenLatency(99) ?? 0) * 1000, r.engine.peakKVBlocksUsed,
                     batchedOverSequential.map { String(format: "%.2fx", $0) } ?? ""))
    }

    func jsonLine() -> String {
        let r = report
        var object: [String: Any] = [
            "concurrency": concurrency, "mode": mode, "requests": r.results.count,
            "prompt_length": promptLength, "gen_length": genLength,
            "total_tokens_per_second": r.totalTokensPerSecond,
            "generated_tokens_per_second": r.generatedTokensPerSecond,
            "decode_tokens_per_second": r.decodeTokensPerSecond,
            "request_tokens_per_second_p50": r.requestTokensPerSecond(50) ?? 0,
            "ttft_ms_p50": (r.timeToFirstToken(50) ?? 0) * 1000, "ttft_ms_p99": (r.timeToFirstToken(99) ?? 0) * 1000,
            "itl_ms_p50": (r.interTokenLatency(50) ?? 0) * 1000, "itl_ms_p99": (r.interTokenLatency(99) ?? 0) * 1000,
            "peak_kv_blocks": r.engine.peakKVBlocksUsed, "wall_seconds": r.wallSeconds,
            "mean_batch_tokens": r.engine.meanBatchTokens,
        ]
        if let ratio = batchedOverSequential { object["batched_over_sequential"] = ratio }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
