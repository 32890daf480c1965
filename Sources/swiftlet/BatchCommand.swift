import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet batch`: a JSONL file of requests through one engine at full throughput, results
/// to a JSONL file in input order (in the spirit of the OpenAI Batch API).
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run a JSONL file of requests through one engine; write the results in input order.",
        discussion: """
            Two input formats, detected per file. OpenAI Batch: each line is {"custom_id", "method": "POST", \
            "url": "/v1/completions" or "/v1/chat/completions", "body": what the server accepts there}; each \
            output line is {"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}, \
            "error": {"code", "message"} for a line that cannot run.
            Flat: each line is {"id": "a" or 1, "prompt": "text" or "prompt_tokens": [ids], \
            "max_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "stop": [strings], "ignore_eos", \
            "repeat_penalty", "frequency_penalty", "presence_penalty"}. Missing fields take the command-line \
            defaults; a missing id is the line number. Each output line is {"id", "text", "tokens", \
            "prompt_tokens" (count), "finish_reason", "metrics": {"ttft_ms", "decode_tokens_per_second", \
            "queue_ms", "e2e_ms", "generated_tokens"}}, or {"id", "error": {"message"}}.
            Blank lines are skipped. --resume keeps the output's finished lines and runs the rest.
            """)

    @OptionGroup var engine: EngineOptions

    @Option(name: .long, help: "JSONL file of requests, one JSON object a line.")
    var input: String

    @Option(name: .long, help: "JSONL file to write the results to (replaced, unless --resume).")
    var output: String

    @Flag(name: .long, help: "Keep the lines --output already has (a killed run's) and run only the requests after them.")
    var resume = false

    @Option(name: .long, help: "Chat template file (Jinja) for /v1/chat/completions lines; default: the model's own.")
    var chatTemplate: String?

    /// Defaults for flat requests that do not set them; `--seed S` gives a request without a
    /// seed the seed S plus its line number.
    @OptionGroup var sampling: SamplingOptions

    @Flag(name: .long, help: "No progress bar on stderr (there is none either when stderr is not a terminal).")
    var noProgress = false

    /// Parameters of a flat request that sets none.
    var defaults: GenerationParameters {
        var parameters = sampling.parameters
        parameters.seed = nil  // per request, from --seed and the line number
        return GenerationParameters(maxTokens: sampling.maxTokens, sampling: parameters, ignoreEOS: sampling.ignoreEos, priority: .batch)
    }

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: input) else {
            throw Failure(FileManager.default.fileExists(atPath: input)
                ? "cannot read --input '\(input)'" : "cannot read --input '\(input)': no such file")
        }
        let inputURL = URL(fileURLWithPath: input).resolvingSymlinksInPath()
        let outputURL = URL(fileURLWithPath: output).resolvingSymlinksInPath()
        guard inputURL.path != outputURL.path else {
            throw Failure("--output '\(output)' is the input file; choose another path")
        }
        let templateFile = try chatTemplate.map { path in
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw Failure("cannot read --chat-template '\(path)'")
            }
        }
        let (engine, model) = try self.engine.makeEngine()
        defer { engine.shutdown() }
        let chat = ChatPromptBuilder(tokenizer: engine.tokenizer, templateSource: templateFile ?? ChatPromptBuilder.modelTemplate(of: model))
        let file = BatchFile(data: data, engine: engine, chat: chat, modelName: URL(fileURLWithPath: try self.engine.modelPath()).deletingPathExtension().lastPathComponent,
                             defaults: defaults, seed: sampling.seed)

        var skip = 0
        let writer: FileHandle
        do {
            if resume, let previous = FileManager.default.contents(atPath: outputURL.path) {
                let point: (entries: Int, bytes: Int)
                do { point = try file.resumePoint(output: previous) } catch let error as APIError {
                    throw Failure("cannot resume from --output '\(output)': \(error.message)")
                }
                skip = point.entries
                writer = try FileHandle(forWritingTo: outputURL)
                try writer.truncate(atOffset: UInt64(point.bytes))
                try writer.seekToEnd()
            } else {
                try Data().write(to: outputURL)
                writer = try FileHandle(forWritingTo: outputURL)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("cannot write --output '\(output)': \(error.localizedDescription)")
        }
        defer { try? writer.close() }

        var bar = noProgress || isatty(STDERR_FILENO) == 0 ? nil : BatchProgressBar(skipped: skip)
        let jobs = Array(file.jobs.dropFirst(skip))
        let summary = try await BatchRequestRunner(engine: engine).run(jobs, onOutcome: { index, outcome in
            var line = file.outputLine(for: skip + index, outcome: outcome)
            line.append(0x0A)
            do { try writer.write(contentsOf: line) } catch {
                throw Failure("cannot write --output '\(output)': \(error.localizedDescription)")
            }
        }, onProgress: { bar?.update($0) })
        bar?.finish()
        let metrics = engine.currentMetrics
        let meanBatch = metrics.steps > 0 ? Double(metrics.batchedSequences) / Double(metrics.steps) : 0
        let resumed = skip > 0 ? " (\(skip) kept from the earlier run)" : ""
        printError(String(format: "batch: %d requests%@ (%d errors) | %@ format | %d prompt tokens | %d generated tokens | %.2f s | %.1f tok/s generated | %.1f tok/s system | %.1f sequences per step (peak %d) | results in %@",
                          summary.requests, resumed, summary.failures, file.format.rawValue, summary.promptTokens, summary.generatedTokens,
                          summary.elapsedSeconds, summary.tokensPerSecond, summary.systemTokensPerSecond, meanBatch,
                          metrics.maxBatchSequences, output))
    }
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
private struct BatchProgressBar {
    var lastDraw = 0.0
    /// Entries an earlier run finished (`--resume`).
    let skipped: Int

    mutating func update(_ progress: BatchRequestRunner.Progress) {
        let now = MonotonicClock.now()
        guard now - lastDraw >= 0.1 || progress.completed == progress.total else { return }
        lastDraw = now
        let width = 30
        let done = skipped + progress.completed, total = skipped + progress.total
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let eta = progress.estimatedSecondsLeft.map { String(format: "ETA %.0f s", $0) } ?? "ETA --"
        let line = String(format: "\r[%@] %d/%d requests | %d tokens | %.1f tok/s | %.1f s | %@\u{1B}[K",
                          bar, done, total, progress.generatedTokens,
                          progress.tokensPerSecond, progress.elapsedSeconds, eta)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
