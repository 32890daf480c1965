import Foundation
import Testing
@testable import Swiftlet

@Suite("Perplexity")
struct PerplexityTests {
    static let text = """
        First Citizen:
        Before we proceed any further, hear me speak.

        All:
        Speak, speak.

        First Citizen:
        You are all resolved rather to die than to famish?
        """

    struct Output: Decodable {
        let nll_per_token: Double
        let perplexity: Double
        let token_count: Int
        let windows: Int
        let context: Int
        let tokens_per_second: Double
    }

    /// A temporary folder holding a tiny model and the text; removed by `cleanUp`.
    struct Workspace {
        let directory: URL
        let modelBytes: [UInt8]
        var model: String { directory.appendingPathComponent("model.gguf").path }
        var textFile: String { directory.appendingPathComponent("text.txt").path }

        init(_ name: String, modelBytes: [UInt8] = TestModels.tiny(context: 128)) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-ppl-\(name)-\(getpid())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            self.modelBytes = modelBytes
            _ = FileManager.default.createFile(atPath: model, contents: Data(modelBytes))
            _ = FileManager.default.createFile(atPath: textFile, contents: Data(PerplexityTests.text.utf8))
        }

        func cleanUp() { try? FileManager.default.removeItem(at: directory) }
    }

    /// The text's ids (no BOS) and BOS, from the model's own vocabulary.
    static func tokens(of model: LoadedModel) throws -> (ids: [Int32], bos: Int32) {
        let tokenizer = try makeTokenizer(from: model.metadata!)
        return (tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false), tokenizer.bosTokenID!)
    }

    /// An independent computation of the protocol: windows built by hand, each run token by
    /// token through a fresh single-thread `Transformer` and cache, log-softmax in Double.
    static func reference(model: LoadedModel, ids: [Int32], bos: Int32, context: Int) -> (nll: Double, count: Int, windows: Int) {
        var total = 0.0, count = 0, windows = 0
        var start = 0
        while start < ids.count {
            let window = [bos] + ids[start..<min(ids.count, start + context - 1)]
            start += context - 1
            windows += 1
            let transformer = try! Transformer(weights: model.weights, maxBatchTokens: 1, maxContext: context, threadCount: 1)
            let cache = try! PagedKVCache(configuration: model.configuration, blockSize: 4, blockCount: (context + 3) / 4)
            let table = (0..<cache.blockCount).map { _ in cache.blocks.allocate()! }
            for position in 0..<(window.count - 1) {
                var batch = TokenBatch()
                let sequence = batch.addSequence(blockTable: table)
                batch.append(token: window[position], position: position, sequence: sequence, wantsLogits: true)
                let logits = transformer.forward(batch, cache: cache).row(0).map(Double.init)
                let maximum = logits.max()!
                let logSumExp = maximum + log(logits.reduce(0) { $0 + exp($1 - maximum) })
                total += logSumExp - logits[Int(window[position + 1])]
                count += 1
            }
        }
        return (total / Double(count), count, windows)
    }

    static func isClose(_ a: Double, _ b: Double, relative: Double = 1e-4) -> Bool {
        abs(a - b) <= relative * max(abs(a), abs(b))
    }

    @Test(arguments: [8, 33, 128])
    func commandMatchesTokenByTokenReference(context: Int) throws {
        let workspace = try Workspace("ref\(context)")
        defer { workspace.cleanUp() }
        let run = try runSwiftlet(["perplexity", "--model", workspace.model, "--file", workspace.textFile,
                                   "--context", String(context), "--threads", "2", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8))

        let model = try TestModels.load(workspace.modelBytes)
        let (ids, bos) = try Self.tokens(of: model)
        let expected = Self.reference(model: model, ids: ids, bos: bos, context: context)
        #expect(Self.isClose(output.nll_per_token, expected.nll), "\(output.nll_per_token) vs \(expected.nll)")
        #expect(Self.isClose(output.perplexity, exp(expected.nll)))
        #expect(output.token_count == ids.count)
        #expect(output.token_count == expected.count)
        #expect(output.windows == expected.windows)
        #expect(output.context == context)
        #expect(output.tokens_per_second > 0)
        #expect(run.stderr.contains("[\(expected.windows)/\(expected.windows)]"), "per-window progress: \(run.stderr)")
    }

    @Test func evaluatorMatchesReferenceAndIsAboveOne() throws {
        let model = try TestModels.load(TestModels.tiny(context: 128, seed: 3, tied: true))
        let (ids, bos) = try Self.tokens(of: model)
        let evaluator = try PerplexityEvaluator(weights: model.weights, context: 20, threadCount: 2)
        var seen: [Int] = []
        let result = try evaluator.evaluate(ids: ids, bos: bos) { index, count, _ in
            seen.append(index)
            #expect(count == PerplexityEvaluator.windowCount(tokenCount: ids.count, context: 20))
        }
        let expected = Self.reference(model: model, ids: ids, bos: bos, context: 20)
        #expect(Self.isClose(result.negativeLogLikelihoodPerToken, expected.nll))
        #expect(result.perplexity.isFinite && result.perplexity > 1)
        #expect(result.tokenCount == ids.count)
        #expect(result.processedTokens == ids.count + result.windowCount)
        #expect(seen == Array(0..<expected.windows))
    }

    /// llama-perplexity's windows: BOS + text in full windows (rest dropped), the first token
    /// of each replaced by BOS, positions context/2 ..< context - 1 scored; the sum equals
    /// scoring those windows' tail rows one by one.
    @Test func llamaCppWindowsScoreTheSecondHalfOfFullWindows() throws {
        let model = try TestModels.load(TestModels.tiny(context: 128, seed: 3, tied: true))
        let (ids, bos) = try Self.tokens(of: model)
        let context = 20
        let evaluator = try PerplexityEvaluator(weights: model.weights, context: context, threadCount: 2)
        let result = try evaluator.evaluateAsLlamaCpp(ids: ids, bos: bos)
        let all = [bos] + ids, windows = all.count / context
        #expect(windows >= 2 && result.windowCount == windows)
        #expect(result.tokenCount == windows * (context - 1 - context / 2))
        var total = 0.0
        for w in 0..<windows {
            var window = Array(all[(w * context)..<((w + 1) * context)])
            window[0] = bos
            let whole = evaluator.score(window: window)
            let head = evaluator.score(window: Array(window[..<(context / 2 + 1)]))  // rows 0 ..< context/2
            #expect(whole.count - head.count == context - 1 - context / 2)
            total += whole.negativeLogLikelihood - head.negativeLogLikelihood
        }
        #expect(Self.isClose(result.negativeLogLikelihood, total))
        #expect(throws: PerplexityError.self) { try evaluator.evaluateAsLlamaCpp(ids: Array(ids[..<5]), bos: bos) }
    }

    @Test func windowsAreBOSPlusConsecutiveChunks() {
        let ids: [Int32] = Array(10..<20)
        let windows = PerplexityEvaluator.windows(of: ids, bos: 1, context: 4)
        #expect(windows == [[1, 10, 11, 12], [1, 13, 14, 15], [1, 16, 17, 18], [1, 19]])
        #expect(PerplexityEvaluator.windows(of: ids, bos: 1, context: 11) == [[1] + ids])
        #expect(PerplexityEvaluator.windows(of: [], bos: 1, context: 4).isEmpty)
        for context in 2...12 {
            #expect(PerplexityEvaluator.windows(of: ids, bos: 1, context: context).count
                    == PerplexityEvaluator.windowCount(tokenCount: ids.count, context: context))
        }
    }

    @Test func contextOptionSetsTheWindowCount() throws {
        let workspace = try Workspace("ctx")
        defer { workspace.cleanUp() }
        let model = try TestModels.load(workspace.modelBytes)
        let count = try Self.tokens(of: model).ids.count
        #expect(count > 64, "the text should need several windows")
        var perplexities: [Double] = []
        for context in [2, 16, 64, 128] {
            let run = try runSwiftlet(["perplexity", "--model", workspace.model, "--file", workspace.textFile,
                                       "--context", String(context), "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let output = try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8))
            #expect(output.windows == (count + context - 2) / (context - 1), "context \(context)")
            #expect(output.token_count == count)
            #expect(output.perplexity.isFinite && output.perplexity > 1)
            perplexities.append(output.perplexity)
        }
        // Context 2 scores every token from BOS alone: a different number than long windows.
        #expect(perplexities[0] != perplexities[3])

        // Without --context: 512, capped at the model's context length (128 here).
        let run = try runSwiftlet(["perplexity", "--model", workspace.model, "--file", workspace.textFile, "--json"])
        let output = try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8))
        #expect(output.context == 128)
        #expect(output.windows == (count + 126) / 127)
        // Text output names the numbers too.
        let text = try runSwiftlet(["perplexity", "--model", workspace.model, "--file", workspace.textFile])
        #expect(text.status == 0)
        #expect(text.stdout.contains("perplexity:") && text.stdout.contains("tokens scored: \(count)"))
    }

    @Test func badInputsFailWithOneClearError() throws {
        let workspace = try Workspace("bad")
        defer { workspace.cleanUp() }
        let empty = workspace.directory.appendingPathComponent("empty.txt").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let noVocabulary = workspace.directory.appendingPathComponent("plain.bin").path
        _ = FileManager.default.createFile(atPath: noVocabulary, contents: Data(Self.llama2CCheckpoint()))

        let cases: [([String], String)] = [
            (["--model", workspace.model, "--file", "/nonexistent/text.txt"], "no such file"),
            (["--model", workspace.model, "--file", empty], "is empty"),
            (["--model", noVocabulary, "--file", workspace.textFile], "no tokenizer"),
            (["--model", workspace.model, "--file", workspace.textFile, "--context", "1"], "at least 2"),
            (["--model", workspace.model, "--file", workspace.textFile, "--context", "129"], "context length is 128"),
            (["--model", "/nonexistent/model.gguf", "--file", workspace.textFile], "cannot open"),
        ]
        for (arguments, message) in cases {
            let run = try runSwiftlet(["perplexity"] + arguments)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderr.lowercased().contains(message.lowercased()), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments)")
        }
    }

    /// A tiny llama2.c checkpoint (no vocabulary): header, then zero weights in its order.
    static func llama2CCheckpoint() -> [UInt8] {
        let dim = 8, hidden = 16, layers = 1, heads = 2, kvHeads = 2, vocabulary = 16, sequence = 8
        let headDim = dim / heads, kvDim = kvHeads * headDim
        let header: [Int32] = [dim, hidden, layers, heads, kvHeads, vocabulary, sequence].map { Int32($0) }
        let floats = vocabulary * dim + layers * (2 * dim + 2 * dim * dim + 2 * dim * kvDim + 3 * dim * hidden)
            + dim + sequence * headDim
        var bytes = header.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        bytes += withUnsafeBytes(of: Float(1).bitPattern.littleEndian, Array.init)
        bytes += [UInt8](repeating: 0, count: (floats - 1) * 4)
        return bytes
    }
}
