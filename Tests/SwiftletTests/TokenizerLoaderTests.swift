import Testing
@testable import Swiftlet

/// Malformed `tokenizer.ggml.*` metadata is an error at load, naming the problem.
@Suite("Tokenizer loader errors")
struct TokenizerLoaderTests {
    typealias V = TokenizerTestVocabularies

    /// `entries` with `key` replaced by `value` (or removed when nil).
    func replacing(_ entries: [(String, GGUFValue)], _ key: String, with value: GGUFValue?) -> [(String, GGUFValue)] {
        var result = entries.filter { $0.0 != key }
        if let value { result.append((key, value)) }
        return result
    }

    /// Loading fails with a `ModelFileError` whose message contains `fragment`.
    func expectError(_ entries: [(String, GGUFValue)], _ fragment: String,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let metadata = try V.metadata(entries)
        do {
            _ = try makeTokenizer(from: metadata)
            Issue.record("loaded, expected an error mentioning \(fragment)", sourceLocation: sourceLocation)
        } catch let error as ModelFileError {
            #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func wellFormedVocabulariesLoad() throws {
        #expect(try V.sentencePiece() is SentencePieceTokenizer)
        #expect(try V.byteLevelBPE() is ByteLevelBPETokenizer)
        // A missing pre-tokenizer means llama.cpp's "default".
        let noPre = try V.byteLevelBPE(pre: nil)
        #expect((noPre as? ByteLevelBPETokenizer)?.preTokenizer == .standard)
    }

    @Test func missingOrUnknownModel() throws {
        let spm = V.sentencePieceEntries()
        try expectError(replacing(spm, "tokenizer.ggml.model", with: nil), "tokenizer.ggml.model")
        try expectError(replacing(spm, "tokenizer.ggml.model", with: .string("t5")), "'t5'")
        try expectError(replacing(spm, "tokenizer.ggml.model", with: .uint32(1)), "wrong type")
    }

    @Test func missingTokens() throws {
        try expectError(replacing(V.sentencePieceEntries(), "tokenizer.ggml.tokens", with: nil), "tokenizer.ggml.tokens")
        try expectError(replacing(V.sentencePieceEntries(), "tokenizer.ggml.tokens", with: .array([])), "no tokens")
    }

    @Test func wrongArrayTypes() throws {
        let spm = V.sentencePieceEntries()
        try expectError(replacing(spm, "tokenizer.ggml.tokens", with: .string("a")), "array of strings")
        try expectError(replacing(spm, "tokenizer.ggml.tokens", with: V.int32s([1, 2, 3])), "array of strings")
        try expectError(replacing(spm, "tokenizer.ggml.scores", with: V.strings(["x"])), "array of numbers")
        try expectError(replacing(spm, "tokenizer.ggml.token_type", with: V.floats([1])), "array of integers")
        try expectError(replacing(V.byteLevelEntries(pre: "gpt-2"), "tokenizer.ggml.merges", with: V.int32s([1])),
                        "array of strings")
        try expectError(replacing(spm, "tokenizer.ggml.bos_token_id", with: .string("1")), "wrong type")
    }

    @Test func lengthMismatches() throws {
        let spm = V.sentencePieceEntries()
        try expectError(replacing(spm, "tokenizer.ggml.scores", with: V.floats([0, 0])), "scores")
        try expectError(replacing(spm, "tokenizer.ggml.token_type", with: V.int32s([1, 1, 1])), "token types")
    }

    @Test func specialIDsOutOfRange() throws {
        let spm = V.sentencePieceEntries()
        try expectError(replacing(spm, "tokenizer.ggml.bos_token_id", with: .uint32(100_000)), "bos token id 100000")
        try expectError(replacing(spm, "tokenizer.ggml.eos_token_id", with: .int32(-1)), "eos token id -1")
        try expectError(replacing(spm, "tokenizer.ggml.unknown_token_id", with: .uint32(5000)), "unknown token id 5000")
        try expectError(spm + [("tokenizer.ggml.eot_token_id", .uint32(9999))], "end-of-turn")
        try expectError(replacing(spm, "tokenizer.ggml.padding_token_id", with: .uint64(1 << 40)), "not a token id")
    }

    @Test func bosAddedButMissing() throws {
        let entries = replacing(V.byteLevelEntries(pre: "llama-bpe"), "tokenizer.ggml.bos_token_id", with: nil)
        try expectError(entries, "BOS")
    }

    @Test func byteLevelNeedsMergesAndAKnownPreTokenizer() throws {
        let bpe = V.byteLevelEntries(pre: "gpt-2")
        try expectError(replacing(bpe, "tokenizer.ggml.merges", with: nil), "merges")
        try expectError(replacing(bpe, "tokenizer.ggml.pre", with: .string("no-such-pre")), "pre-tokenizer 'no-such-pre'")
        try expectError(replacing(bpe, "tokenizer.ggml.merges", with: V.strings(["ab"])), "merge 0")
    }
}

/// llama2.c's `tokenizer.bin`: written by `Llama2TokenizerFile.serialized` as llama2.c's
/// exporter does, read back into the same SentencePiece tokenizer as the GGUF one.
@Suite("Tokenizer llama2.c file")
struct TokenizerLlama2FileTests {
    typealias V = TokenizerTestVocabularies

    /// The test vocabulary's tokens and scores without the user-defined token.
    static func vocabulary() -> (tokens: [String], scores: [Float]) {
        var tokens = ["<unk>", "<s>", "</s>"]
        var scores: [Float] = [0, 0, 0]
        for byte in 0..<256 {
            tokens.append("<0x" + String(byte, radix: 16, uppercase: true).leftPadded(2) + ">")
            scores.append(0)
        }
        for (text, score) in V.sentencePiecePieces where text != "<tool>" {
            tokens.append(text)
            scores.append(score)
        }
        return (tokens, scores)
    }

    func load(_ bytes: [UInt8], vocabularySize: Int? = nil) throws -> SentencePieceTokenizer {
        try bytes.withUnsafeBytes { try Llama2TokenizerFile.tokenizer(from: $0, vocabularySize: vocabularySize) }
    }

    @Test func readsWhatTheExporterWrites() throws {
        let (tokens, scores) = Self.vocabulary()
        let bytes = Llama2TokenizerFile.serialized(tokens: tokens, scores: scores)
        let tokenizer = try load(bytes)
        let reference = try V.sentencePiece()
        #expect(tokenizer.vocabularySize == tokens.count)
        #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenID == 2 && tokenizer.unknownTokenID == 0)
        #expect(tokenizer.vocabulary.text(of: 1) == "<s>")
        #expect(tokenizer.vocabulary.attributes[Int(V.byteToken(0x41))] == .byte)
        for text in ["ab", "abc", "a  b", "é\n", "<s>x"] {
            #expect(tokenizer.encode(text) == reference.encode(text), "\(text.debugDescription)")
        }
        #expect(tokenizer.decode(tokenizer.encode("a  b\n")) == " a  b\n")
        #expect(try load(bytes, vocabularySize: tokens.count).vocabularySize == tokens.count)
    }

    @Test func rejectsBrokenFiles() throws {
        let (tokens, scores) = Self.vocabulary()
        let bytes = Llama2TokenizerFile.serialized(tokens: tokens, scores: scores)
        func expectError(_ bytes: [UInt8], vocabularySize: Int? = nil, _ fragment: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try load(bytes, vocabularySize: vocabularySize)
                Issue.record("loaded, expected an error mentioning \(fragment)", sourceLocation: sourceLocation)
            } catch {
                #expect("\(error)".contains(fragment), "\(error)", sourceLocation: sourceLocation)
            }
        }
        expectError([], "truncated")
        expectError(Array(bytes.dropLast(1)), "truncated")
        expectError(bytes, vocabularySize: tokens.count + 1, "truncated")
        expectError(bytes, vocabularySize: 1 << 40, "cannot hold")
        var badMax = bytes
        badMax.replaceSubrange(0..<4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        expectError(badMax, "max_token_length")
        var negative = bytes
        negative.replaceSubrange(8..<12, with: [0xFF, 0xFF, 0xFF, 0xFF])  // token 0's length
        expectError(negative, "length -1")
        var tooLong = bytes
        tooLong.replaceSubrange(8..<12, with: [0xFF, 0x00, 0x00, 0x00])
        expectError(tooLong, "length 255")
        expectError(Llama2TokenizerFile.serialized(tokens: ["<unk>", "<s>"], scores: [0, 0]), "ids 0, 1, 2")
        var nan = bytes
        nan.replaceSubrange(4..<8, with: [0x00, 0x00, 0xC0, 0x7F])
        expectError(nan, "NaN")
    }
}
