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
            Each input line is a JSON object: {"id": "a" or 1, "prompt": "text" or "prompt_tokens": [ids], \
            "max_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "stop": [strings], "ignore_eos", \
            "repeat_penalty", "frequency_penalty", "presence_penalty"}. Missing fields take the command-line \
            defaults; a missing id is the line number. Blank lines are skipped.
            Each output line is {"id", "text", "tokens", "prompt_tokens" (count), "finish_reason", \
            "metrics": {"ttft_ms", "decode_tokens_per_second", "queue_ms", "e2e_ms", "generated_tokens"}}, \
            or {"id", "error": {"message"}} for a line that cannot run.
            """)

    @OptionGroup var engine: EngineOptions

    @Option(name: .long, help: "JSONL file of requests, one JSON object a line.")
    var input: String

    @Option(name: .long, help: "JSONL file to write the results to (replaced).")
    var output: String

    /// Defaults for requests that do not set them; `--seed S` gives a request without a
    /// seed the seed S plus its line number.
    @OptionGroup var sampling: SamplingOptions

    @Flag(name: .long, help: "No progress bar on stderr (there is none either when stderr is not a terminal).")
    var noProgress = false

    /// Parameters of a request that sets none.
    var defaults: GenerationParameters {
        var parameters = sampling.parameters
        parameters.seed = nil  // per request, from --seed and the line number
        return GenerationParameters(maxTokens: sampling.maxTokens, sampling: parameters, ignoreEOS: sampling.ignoreEos)
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
        let entries = parseEntries(data)
        let writer: FileHandle
        do {
            try Data().write(to: outputURL)
            writer = try FileHandle(forWritingTo: outputURL)
        } catch {
            throw Failure("cannot write --output '\(output)': \(error.localizedDescription)")
        }
        defer { try? writer.close() }

        let (engine, _) = try self.engine.makeEngine()
        defer { engine.shutdown() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bar = noProgress || isatty(STDERR_FILENO) == 0 ? nil : BatchProgressBar()
        let summary = try await BatchRequestRunner(engine: engine).run(entries, onRecord: { record in
            var line = try encoder.encode(record)
            line.append(0x0A)
            do { try writer.write(contentsOf: line) } catch {
                throw Failure("cannot write --output '\(output)': \(error.localizedDescription)")
            }
        }, onProgress: { bar?.update($0) })
        bar?.finish()
        let metrics = engine.currentMetrics
        let meanBatch = metrics.steps > 0 ? Double(metrics.batchedSequences) / Double(metrics.steps) : 0
        printError(String(format: "batch: %d requests (%d errors) | %d prompt tokens | %d generated tokens | %.2f s | %.1f tok/s | %.1f sequences per step (peak %d) | results in %@",
                          summary.requests, summary.failures, summary.promptTokens, summary.generatedTokens,
                          summary.elapsedSeconds, summary.tokensPerSecond, meanBatch, metrics.maxBatchSequences, output))
    }

    /// One entry per non-blank line: a request, or the reason it is not one.
    func parseEntries(_ data: Data) -> [Result<BatchRequest, BatchRequestError>] {
        let defaults = self.defaults
        var entries: [Result<BatchRequest, BatchRequestError>] = []
        for (index, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) else { continue }
            let lineNumber = index + 1
            do {
                var request = try BatchRequest.parse(line: Data(line), lineNumber: lineNumber, defaults: defaults)
                if request.parameters.sampling.seed == nil, let seed = sampling.seed {
                    request.parameters.sampling.seed = seed &+ UInt64(lineNumber)
                }
                entries.append(.success(request))
            } catch let error as BatchRequestError {
                entries.append(.failure(error))
            } catch {
                entries.append(.failure(BatchRequestError(id: .integer(Int64(lineNumber)), message: "\(error)")))
            }
        }
        return entries
    }
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
private struct BatchProgressBar {
    private var lastDraw = 0.0

    mutating func update(_ progress: BatchRequestRunner.Progress) {
        let now = MonotonicClock.now()
        guard now - lastDraw >= 0.1 || progress.completed == progress.total else { return }
        lastDraw = now
        let width = 30
        let filled = progress.total > 0 ? width * progress.completed / progress.total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r[%@] %d/%d requests | %d tokens | %.1f tok/s | %.1f s\u{1B}[K",
                          bar, progress.completed, progress.total, progress.generatedTokens,
                          progress.tokensPerSecond, progress.elapsedSeconds)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
