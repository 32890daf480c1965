import Foundation
import Testing
@testable import Swiftlet

/// Engines read a vocabulary at once and build its encoder for the first text prompt: a
/// model whose pre-tokenizer Swiftlet does not know still generates from token ids (and
/// decodes them), and only a text prompt fails, naming the pre-tokenizer.
@Suite("Tokenizer deferred loading")
struct TokenizerDeferredLoadingTests {
    typealias V = TokenizerTestVocabularies

    static func model(pre: String) -> [UInt8] {
        TestModels.tiny(tokenizer: V.byteLevelEntries(pre: pre))
    }

    @Test func encoderIsBuiltOnFirstEncode() throws {
        let tokenizer = try TokenizerLoader.loadDeferred(from: V.metadata(V.byteLevelEntries(pre: "gpt-2")))
        #expect(!tokenizer.isEncoderBuilt)
        #expect(tokenizer.decode([Int32(UInt8(ascii: "h")), Int32(UInt8(ascii: "i"))]) == "hi")
        #expect(!tokenizer.isEncoderBuilt)
        let eager = try V.byteLevelBPE(pre: "gpt-2")
        #expect(tokenizer.encode("hello the world", addSpecialTokens: false, parseSpecial: false)
                == eager.encode("hello the world", addSpecialTokens: false, parseSpecial: false))
        #expect(tokenizer.isEncoderBuilt)
    }

    @Test func unknownPreTokenizerStillDecodesButDoesNotEncode() throws {
        let tokenizer = try TokenizerLoader.loadDeferred(from: V.metadata(V.byteLevelEntries(pre: "no-such-pre")))
        #expect(tokenizer.decode([Int32(UInt8(ascii: "o")), Int32(UInt8(ascii: "k"))]) == "ok")
        #expect(tokenizer.isEndOfGeneration(Int32(tokenizer.vocabularySize - 1)))
        #expect(throws: ModelFileError.self) { try tokenizer.encoder() }
        #expect(tokenizer.encode("ok", addSpecialTokens: false, parseSpecial: false).isEmpty)
        // The strict loader still refuses the name.
        #expect(throws: ModelFileError.self) { try makeTokenizer(from: V.metadata(V.byteLevelEntries(pre: "no-such-pre"))) }
    }

    @Test func engineGeneratesFromTokenIdsWithAnUnknownPreTokenizer() async throws {
        let model = try TestModels.load(Self.model(pre: "no-such-pre"))
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 1, kvCacheBlocks: 64))
        defer { engine.shutdown() }
        let result = try await engine.complete(prompt: .tokens([104, 105, 32]), parameters: GenerationParameters(maxTokens: 6, ignoreEOS: true))
        #expect(result.tokens.count == 6)
        #expect(result.text == engine.tokenizer?.decode(result.tokens, options: DecodingOptions(startsText: false)))
        do {
            _ = try await engine.complete(prompt: .text("hi"), parameters: GenerationParameters(maxTokens: 2))
            Issue.record("a text prompt needs the unknown pre-tokenizer")
        } catch let error as ModelFileError {
            #expect("\(error)".contains("no-such-pre"))
        }
    }

    @Test func commandLinePromptTokensNeedNoEncoder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-deferred-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("unknown-pre.gguf").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(Self.model(pre: "no-such-pre")))
        let run = try runSwiftlet(["generate", "--model", path, "--prompt-tokens", "104,105,32", "--max-tokens", "4",
                                   "--ignore-eos", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"prompt_tokens\":[104,105,32]"))
        let text = try runSwiftlet(["generate", "--model", path, "--prompt", "hi", "--max-tokens", "4"])
        #expect(text.status != 0)
        #expect(text.stderr.contains("pre-tokenizer 'no-such-pre'"), "\(text.stderr)")
    }
}
