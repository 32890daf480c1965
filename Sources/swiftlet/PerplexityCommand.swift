import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet perplexity`: a model's perplexity on a text file, like llama.cpp's
/// `llama-perplexity`, by the protocol of `Models/train/EVAL.md`.
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Measure a model's perplexity on a text file.",
        discussion: """
            The file is tokenized as one string without BOS and cut into consecutive chunks of \
            context - 1 tokens (the last one shorter); each chunk, prefixed with BOS, runs as one \
            window from an empty KV cache, and every token after the BOS is scored from the tokens \
            before it in its window. --context sets the window (default 512, or the model's context \
            length when shorter); the batching and KV-cache options do not apply.
            """)

    @OptionGroup var engine: EngineOptions

    @Option(name: [.long, .customShort("f")], help: "UTF-8 text file to evaluate.")
    var file: String

    @Flag(name: .long, help: "Use llama-perplexity's windows instead (BOS-prefixed text in full windows, first token replaced by BOS, second half scored), to compare with it.")
    var llamaCppWindows = false

    @Flag(name: .long, help: "Print one JSON object (nll_per_token, perplexity, token_count, windows, context, tokens_per_second).")
    var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Failure(FileManager.default.fileExists(atPath: file)
                ? "cannot read --file '\(file)'" : "cannot read --file '\(file)': no such file")
        }
        guard !data.isEmpty else { throw Failure("--file '\(file)' is empty") }
        guard let text = String(data: data, encoding: .utf8) else { throw Failure("--file '\(file)' is not valid UTF-8") }

        let model = try ModelLoader.load(path: engine.modelPath())
        let tokenizer = try makeTokenizer(for: model)
        guard let bos = tokenizer.bosTokenID else { throw Failure("the model's vocabulary has no BOS token to start windows with") }
        let context = engine.context ?? min(512, model.configuration.contextLength)
        let evaluator: PerplexityEvaluator
        do {
            evaluator = try PerplexityEvaluator(weights: model.weights, context: context, threadCount: engine.threads,
                                                maxMemoryBytes: engine.maxMemoryMB.map { $0 << 20 })
        } catch let error as PerplexityError {
            throw Failure("--context: \(error)")
        }
        let ids = tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false)
        guard !ids.isEmpty else { throw Failure("--file '\(file)' has no tokens") }
        if llamaCppWindows {
            let result = try evaluator.evaluateAsLlamaCpp(ids: ids, bos: bos)
            try report(result)
            return
        }
        let windowCount = PerplexityEvaluator.windowCount(tokenCount: ids.count, context: context)
        printError("perplexity: \(ids.count) tokens in \(windowCount) windows of up to \(context) tokens")

        let interactive = isatty(STDERR_FILENO) != 0
        let result = try evaluator.evaluate(ids: ids, bos: bos) { index, count, soFar in
            let line = String(format: "[%d/%d] perplexity %.4f | %.1f tok/s", index + 1, count, soFar.perplexity, soFar.tokensPerSecond)
            FileHandle.standardError.write(Data((interactive ? "\r" + line + "\u{1B}[K" : line + "\n").utf8))
        }
        if interactive { printError("") }
        try report(result)
    }

    private func report(_ result: PerplexityResult) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(PerplexityOutput(result: result)), as: UTF8.self))
        } else {
            print(String(format: "perplexity: %.4f", result.perplexity))
            print(String(format: "nll per token: %.6f nats", result.negativeLogLikelihoodPerToken))
            print("tokens scored: \(result.tokenCount) in \(result.windowCount) windows of up to \(result.context)")
            print(String(format: "speed: %.1f tok/s (%.2f s)", result.tokensPerSecond, result.seconds))
        }
    }

    /// `--tokenizer`, else the vocabulary in the model's GGUF metadata.
    private func makeTokenizer(for model: LoadedModel) throws -> any Tokenizer {
        let tokenizer: any Tokenizer
        if let path = engine.tokenizer {
            tokenizer = try loadTokenizer(path: path)
        } else if let metadata = model.metadata, metadata["tokenizer.ggml.model"] != nil {
            tokenizer = try Swiftlet.makeTokenizer(from: metadata)
        } else {
            throw Failure("the model has no tokenizer (\(model.formatDescription) checkpoint without a vocabulary); give --tokenizer with a GGUF vocabulary")
        }
        guard tokenizer.vocabularySize <= model.configuration.vocabularySize else {
            throw Failure("the tokenizer has \(tokenizer.vocabularySize) tokens, the model only \(model.configuration.vocabularySize)")
        }
        return tokenizer
    }
}

/// The `--json` output of `perplexity`.
private struct PerplexityOutput: Encodable {
    let result: PerplexityResult

    enum Keys: String, CodingKey {
        case nll_per_token, perplexity, token_count, windows, context, tokens_per_second, seconds
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(result.negativeLogLikelihoodPerToken, forKey: .nll_per_token)
        try c.encode(result.perplexity, forKey: .perplexity)
        try c.encode(result.tokenCount, forKey: .token_count)
        try c.encode(result.windowCount, forKey: .windows)
        try c.encode(result.context, forKey: .context)
        try c.encode(result.tokensPerSecond, forKey: .tokens_per_second)
        try c.encode(result.seconds, forKey: .seconds)
    }
}
