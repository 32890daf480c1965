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

    @Option(name: [.long, .customShort("p"), .customLong("n-prompt")], help: "Prompt tokens per request (random ids, BOS first).")
    var promptLength: Int = 32

    @Option(name: [.long, .customShort("n"), .customLong("n-gen")], help: "Generated tokens per request (end-of-generation ignored).")
    var genLength: Int = 128

    @Option(help: "Requests in flight at once, comma separated.")
    var concurrency: String = "1,4,16,64"

    @Option(help: "Requests per concurrency level (default: the concurrency, at least 4).")
    var requests: Int?

    @Option(help: "all-at-once, or poisson:RATE (requests per second).")
    var arrival: String = "all-at-once"

    @Option(help: "Runs per setting; the median run by total tok/s is reported. With a drafter the settings take turns run by run, and each speedup is the median of its per-round ratios.")
    var repetitions: Int = 1

    @Option(help: "Modes to run, comma separated: batched, sequential.")
    var modes: String = "batched,sequential"

    @Option(name: [.long, .customShort("s")], help: "Seed of the random prompts.")
    var seed: UInt64 = 1

    @Flag(help: "One JSON object per line and mode instead of the table.")
    var json = false

    @Option(help: "With --draft-model or --draft ngram: draft lengths to compare with plain decoding, comma separated.")
    var draftTokens: String = "1,2,4,8"

    @Option(help: "Sampling temperatures, comma separated (0 = greedy). Default: 0, and 0,0.8 with a drafter.")
    var temperatures: String?

    @Option(help: "Every request starts with the same N tokens, then --prompt-length distinct ones; runs cold and warm, prefix cache on and off.")
    var sharedPrefixTokens: Int = 0

    @Option(help: "Text prompts, one per line (cycled), instead of random token ids.")
    var promptsFile: String?

    func validate() throws {
        try FlagRange.check(promptLength, "--prompt-length", FlagRange.tokens)
        try FlagRange.check(genLength, "--gen-length", FlagRange.tokens)
        try FlagRange.check(repetitions, "--repetitions", 1...10_000)
        if let requests { try FlagRange.check(requests, "--requests", 1...(1 << 20)) }
        try FlagRange.check(sharedPrefixTokens, "--shared-prefix-tokens", 0...(1 << 24))
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
        if !json { print("kernels: \(KernelPath.summary)\n") }
        if engine.draftModel != nil || engine.draft != nil {
            try await runSpeculative()
        } else if sharedPrefixTokens > 0 {
            try await runSharedPrefix()
        } else {
            try await runBatching()
        }
    }

    func temperatureList(default value: [Float]) throws -> [Float] {
        guard let temperatures else { return value }
        return try temperatures.split(separator: ",").map {
            guard let t = Float($0), t >= 0, t.isFinite else { throw ValidationError("--temperatures: '\($0)' is not a temperature") }
            return t
        }
    }

    func draftLengths() throws -> [Int] {
        try draftTokens.split(separator: ",").map {
            guard let k = Int($0), (1...64).contains(k) else { throw ValidationError("--draft-tokens: '\($0)' is not a count between 1 and 64") }
            return k
        }
    }

    /// The benchmark prompts: lines of `--prompts-file` (tokenized), or random token ids.
    func makePrompts(count: Int, model: LoadedModel, tokenizer: (any Tokenizer)?, prefix: [Int32] = []) throws -> [[Int32]] {
        if let promptsFile {
            guard let tokenizer else { throw ValidationError("--prompts-file needs a model with a tokenizer") }
            let lines = try String(contentsOfFile: promptsFile, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            guard !lines.isEmpty else { throw ValidationError("--prompts-file has no prompts") }
            return (0..<count).map { tokenizer.encode(lines[$0 % lines.count]) }
        }
        let bos = tokenizer?.vocabulary.specialTokens.bos ?? 1
        let suffixes = Workload.randomPrompts(count: count, length: promptLength, vocabularySize: model.configuration.vocabularySize,
                                              bos: prefix.isEmpty ? bos : nil, seed: seed &+ UInt64(prefix.count))
        return suffixes.map { prefix + $0 }
    }

    func runSpeculative() async throws {
        let model = try ModelLoader.load(path: engine.modelPath())
        guard let drafting = try engine.drafting() else { return }
        let tokenizer = try engine.explicitTokenizer()
        if !json { SpeculativeRow.printHeader() }
        for level in try concurrencyLevels() {
            for temperature in try temperatureList(default: [0, 0.8]) {
                let count = requests ?? max(level, 4)
                let sampling = temperature == 0 ? SamplingParameters.greedy : SamplingParameters(temperature: temperature, topK: 0, topP: 1, minP: 0, seed: seed)
                // Plain, each fixed draft length, then the adaptive choice: one engine each,
                // run in turn repetition by repetition, so a machine that slows down or speeds
                // up during the run moves every setting alike and the speedups stay fair.
                var settings: [(Int, Bool)] = [(0, false)] + (try draftLengths()).map { ($0, false) }
                settings.append(((try draftLengths()).max()!, true))
                var instances: [Engine] = []
                defer { for instance in instances { instance.shutdown() } }
                var prompts: [[Int32]] = []
                for (k, adaptive) in settings {
                    var config = engine.engineConfiguration
                    config.maxSequences = level
                    config.maxDraftTokens = k
                    config.adaptiveDraftLength = adaptive
                    let instance = try Engine(model: model, tokenizer: tokenizer, configuration: config, drafting: k > 0 ? drafting : nil)
                    instances.append(instance)
                    if prompts.isEmpty { prompts = try makePrompts(count: count, model: model, tokenizer: instance.tokenizer) }
                    _ = try await instance.complete(prompt: .tokens(Array(prompts[0].prefix(8))), parameters: GenerationParameters(maxTokens: 4, sampling: .greedy, ignoreEOS: true))
                }
                var reports = [[WorkloadReport]](repeating: [], count: settings.count)
                for repetition in 0..<repetitions {
                    var parameters = GenerationParameters(maxTokens: genLength, sampling: sampling, ignoreEOS: true)
                    parameters.sampling.seed = sampling.seed.map { $0 &+ UInt64(repetition) }
                    for (index, (k, adaptive)) in settings.enumerated() {
                        printError("bench: concurrency \(level), temperature \(temperature), \(k == 0 ? "plain" : adaptive ? "adaptive up to \(k)" : "draft \(k)"), run \(repetition + 1) of \(repetitions)...")
                        reports[index].append(try await WorkloadRunner.run(Workload(prompts: prompts, parameters: parameters), on: instances[index], concurrency: level))
                    }
                }
                // Each setting's median run; its speedup is the median over the rounds of its
                // rate over the plain rate of the same round.
                let median = { (values: [Double]) in values.sorted()[values.count / 2] }
                for (index, (k, adaptive)) in settings.enumerated() {
                    let report = reports[index].sorted { $0.generatedTokensPerSecond < $1.generatedTokensPerSecond }[reports[index].count / 2]
                    let speedup = median(zip(reports[index], reports[0]).map { $0.generatedTokensPerSecond / $1.generatedTokensPerSecond })
                    let row = SpeculativeRow(mode: k == 0 ? "plain" : "speculative", draftTokens: k, adaptive: adaptive, temperature: temperature,
                                             concurrency: level, report: report, speedup: speedup)
                    if json { print(row.jsonLine()) } else { row.printRow() }
                }
            }
        }
    }

    func runSharedPrefix() async throws {
        let model = try ModelLoader.load(path: engine.modelPath())
        let tokenizer = try engine.explicitTokenizer()
        if !json { PrefixRow.printHeader() }
        for level in try concurrencyLevels() {
            let count = requests ?? level
            for caching in [true, false] {
                for state in ["cold", "warm"] {
                    var config = engine.engineConfiguration
                    config.maxSequences = max(level, 1)
                    config.prefixCaching = caching
                    if !CommandLine.arguments.contains("--kv-cache-mb") {
                        let tokens = (level + 1) * (sharedPrefixTokens + promptLength + genLength + 2 * config.blockSize)
                        config.kvCacheBlocks = tokens / config.blockSize + 1
                    }
                    let instance = try Engine(model: model, tokenizer: tokenizer, configuration: config)
                    defer { instance.shutdown() }
                    let bos = instance.tokenizer?.vocabulary.specialTokens.bos ?? 1
                    let prefix = Workload.randomPrompts(count: 1, length: sharedPrefixTokens, vocabularySize: model.configuration.vocabularySize, bos: bos, seed: seed &+ 7)[0]
                    let prompts = try makePrompts(count: count + 1, model: model, tokenizer: nil, prefix: prefix)
                    let parameters = GenerationParameters(maxTokens: genLength, sampling: .greedy, ignoreEOS: true)
                    // Warm up the threads on an unrelated prompt (no shared blocks).
                    _ = try await instance.complete(prompt: .tokens([bos, 5, 6, 7]), parameters: GenerationParameters(maxTokens: 2, sampling: .greedy, ignoreEOS: true))
                    if state == "warm" {
                        _ = try await instance.complete(prompt: .tokens(prompts[count]), parameters: GenerationParameters(maxTokens: 1, sampling: .greedy, ignoreEOS: true))
                    }
                    printError("bench: shared prefix \(sharedPrefixTokens), \(count) requests, cache \(caching ? "on" : "off"), \(state)...")
                    let report = try await WorkloadRunner.run(Workload(prompts: Array(prompts[0..<count]), parameters: parameters), on: instance, concurrency: level)
                    let row = PrefixRow(state: state, caching: caching, concurrency: level, prefixTokens: sharedPrefixTokens,
                                        suffixTokens: promptLength, genLength: genLength, report: report)
                    if json { print(row.jsonLine()) } else { row.printRow() }
                }
            }
        }
    }

    func runBatching() async throws {
        let levels = try concurrencyLevels()
        let rate = try arrivalRate()
        let model = try ModelLoader.load(path: engine.modelPath())
        let tokenizer = try engine.explicitTokenizer()
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
            let modes = try modeList()
            let modelTokenizer = try model.metadata.flatMap { $0["tokenizer.ggml.model"] != nil ? try makeTokenizer(from: $0) : nil }
            let prompts = try makePrompts(count: count, model: model, tokenizer: tokenizer ?? modelTokenizer)
            let parameters = GenerationParameters(maxTokens: genLength, sampling: .greedy, ignoreEOS: true)
            let workload = Workload(prompts: prompts, parameters: parameters,
                                    arrivalOffsets: rate.map { Workload.poissonOffsets(count: count, rate: $0, seed: seed) })
            // Modes alternate within each repetition, so the machine's drift hits both alike,
            // and every run gets a fresh engine: no run starts with another's prompts cached.
            var reports: [String: [WorkloadReport]] = [:]
            for repetition in 0..<repetitions {
                for mode in modes {
                    let instance = try Engine(model: model, tokenizer: tokenizer, configuration: config)
                    // One engine at a time: the next starts once this one's loop has exited.
                    defer { instance.shutdown(); instance.waitUntilStopped() }
                    // Warm up: page in the weights, spin up the threads (an unrelated prompt).
                    let bos = instance.tokenizer?.vocabulary.specialTokens.bos ?? 1
                    _ = try await instance.complete(prompt: .tokens([bos, 5, 6, 7]), parameters: GenerationParameters(maxTokens: 4, sampling: .greedy, ignoreEOS: true))
                    printError("bench: concurrency \(level), \(mode), run \(repetition + 1)/\(repetitions), \(count) requests...")
                    reports[mode, default: []].append(try await WorkloadRunner.run(workload, on: instance, concurrency: mode == "batched" ? level : 1))
                }
            }
            var batchedThroughput: Double?
            for mode in modes {
                let runs = reports[mode] ?? []
                let report = runs.sorted { $0.totalTokensPerSecond < $1.totalTokensPerSecond }[runs.count / 2]
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
            "mean_batch_tokens": r.engine.meanBatchTokens, "peak_rss_mb": peakResidentMegabytes(),
        ]
        if let ratio = batchedOverSequential { object["batched_over_sequential"] = ratio }
        return encodeJSONLine(object)
    }
}

/// Peak resident memory of this process (VmHWM), in MiB; 0 where /proc is absent.
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kilobytes / 1024
}

/// One line of `bench` output with a drafter.
struct SpeculativeRow {
    let mode: String
    let draftTokens: Int
    let adaptive: Bool
    let temperature: Float
    let concurrency: Int
    let report: WorkloadReport
    /// Generated tokens per second over plain decoding's, measured in the same rounds.
    let speedup: Double?

    static func printHeader() {
        print("| mode        | draft | temp | conc | gen tok/s | accept % | tokens/step | TTFT p50 ms | ITL p50 ms | speedup |")
        print("|-------------|------:|-----:|-----:|----------:|---------:|------------:|------------:|-----------:|--------:|")
    }

    func printRow() {
        let r = report
        let draft = draftTokens == 0 ? "-" : adaptive ? "≤\(draftTokens)" : "\(draftTokens)"
        print(String(format: "| %@ | %@ | %4.1f | %4d | %9.1f | %8.1f | %11.2f | %11.1f | %10.2f | %6.2fx |",
                     mode.padding(toLength: 11, withPad: " ", startingAt: 0), draft.padding(toLength: 5, withPad: " ", startingAt: 0),
                     temperature, concurrency, r.generatedTokensPerSecond, (r.acceptanceRate ?? 0) * 100,
                     r.meanTokensPerTargetStep, (r.timeToFirstToken(50) ?? 0) * 1000, (r.interTokenLatency(50) ?? 0) * 1000, speedup ?? 1))
    }

    func jsonLine() -> String {
        let r = report
        let object: [String: Any] = [
            "mode": mode, "draft_tokens": draftTokens, "adaptive": adaptive, "temperature": Double(temperature),
            "concurrency": concurrency, "requests": r.results.count,
            "generated_tokens_per_second": r.generatedTokensPerSecond,
            "acceptance_rate": r.acceptanceRate ?? 0, "mean_tokens_per_target_step": r.meanTokensPerTargetStep,
            "draft_tokens_proposed": r.draftTokensProposed, "draft_tokens_accepted": r.draftTokensAccepted,
            "ttft_ms_p50": (r.timeToFirstToken(50) ?? 0) * 1000, "itl_ms_p50": (r.interTokenLatency(50) ?? 0) * 1000,
            "speedup_over_plain": speedup ?? 1,
            "decode_step_ms": r.engine.decodeSteps > 0 ? r.engine.decodeStepSeconds / Double(r.engine.decodeSteps) * 1000 : 0,
            "draft_ms_per_step": r.engine.draftedSteps > 0 ? r.engine.draftSeconds / Double(r.engine.draftedSteps) * 1000 : 0,
        ]
        return encodeJSONLine(object)
    }
}

/// One line of `bench --shared-prefix-tokens` output.
struct PrefixRow {
    let state: String
    let caching: Bool
    let concurrency: Int
    let prefixTokens: Int
    let suffixTokens: Int
    let genLength: Int
    let report: WorkloadReport

    static func printHeader() {
        print("| prefix | cache | conc | TTFT p50 ms | TTFT p99 ms | total tok/s | gen tok/s | prompt tokens computed | prefix hit % | peak KV |")
        print("|--------|-------|-----:|------------:|------------:|------------:|----------:|-----------------------:|-------------:|--------:|")
    }

    func printRow() {
        let r = report
        print(String(format: "| %@ | %@ | %4d | %11.1f | %11.1f | %11.1f | %9.1f | %22d | %12.1f | %7d |",
                     state.padding(toLength: 6, withPad: " ", startingAt: 0), (caching ? "on" : "off").padding(toLength: 5, withPad: " ", startingAt: 0),
                     concurrency, (r.timeToFirstToken(50) ?? 0) * 1000, (r.timeToFirstToken(99) ?? 0) * 1000,
                     r.totalTokensPerSecond, r.generatedTokensPerSecond, r.engine.promptTokensComputed,
                     r.engine.prefixHitRate * 100, r.engine.peakKVBlocksUsed))
    }

    func jsonLine() -> String {
        let r = report
        let object: [String: Any] = [
            "prefix_state": state, "prefix_cache": caching ? "on" : "off", "concurrency": concurrency, "requests": r.results.count,
            "shared_prefix_tokens": prefixTokens, "prompt_length": suffixTokens, "gen_length": genLength,
            "ttft_ms_p50": (r.timeToFirstToken(50) ?? 0) * 1000, "ttft_ms_p99": (r.timeToFirstToken(99) ?? 0) * 1000,
            "total_tokens_per_second": r.totalTokensPerSecond, "generated_tokens_per_second": r.generatedTokensPerSecond,
            "prompt_tokens_computed": r.engine.promptTokensComputed, "prefix_hit_rate": r.engine.prefixHitRate,
            "peak_kv_blocks": r.engine.peakKVBlocksUsed,
        ]
        return encodeJSONLine(object)
    }
}

/// One JSON object on one line, keys sorted (the `--json` output format of `bench`).
/// Every row names the CPU path of the kernels that produced it (`kernel_path`).
func encodeJSONLine(_ object: [String: Any]) -> String {
    var object = object
    object["kernel_path"] = KernelPath.current.rawValue
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}
