import Testing
@testable import Swiftlet

/// Byte-level BPE on a vocabulary the test builds: the 256 byte characters (id = byte), the
/// merge results `Ġt`, `he`, `Ġthe`, `in`, `Ġa`, `xyz`, `12` (ids 256...262; `xy` is merged
/// but is no token), `zz`, `hello` (263, 264) and `<|endoftext|>` (265, control).
@Suite("Tokenizer byte-level BPE")
struct TokenizerByteLevelTests {
    typealias V = TokenizerTestVocabularies

    func encode(_ tokenizer: any Tokenizer, _ text: String, parseSpecial: Bool = false) -> [Int32] {
        tokenizer.encode(text, addSpecialTokens: false, parseSpecial: parseSpecial)
    }

    func bytes(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }

    @Test func mergesApplyByRank() throws {
        let tokenizer = try V.byteLevelBPE()
        #expect(encode(tokenizer, " the") == [258])
        #expect(encode(tokenizer, "the") == [Int32(UInt8(ascii: "t")), 257])
        #expect(encode(tokenizer, "in the") == [259, 258])
    }

    @Test func mergeResultsThatAreNotTokensStillMerge() throws {
        let tokenizer = try V.byteLevelBPE()
        // "x"+"y" makes "xy" (no token), which "xy"+"z" turns into the token "xyz".
        #expect(encode(tokenizer, "xyz") == [261])
        // Left alone, "xy" falls back to the tokens of its single bytes, as in llama.cpp.
        #expect(encode(tokenizer, "xy") == bytes("xy"))
    }

    @Test func wholeWordTokensSkipMergesOnlyForLlama3() throws {
        let llama3 = try V.byteLevelBPE(pre: "llama-bpe")
        let gpt2 = try V.byteLevelBPE(pre: "gpt-2")
        #expect(encode(llama3, "zz") == [263])
        #expect(encode(gpt2, "zz") == bytes("zz"))
        #expect(encode(llama3, "hello") == [264])
        #expect(encode(gpt2, "hello") == [257] + bytes("llo"))
    }

    @Test func controlTokensNeedParseSpecial() throws {
        let tokenizer = try V.byteLevelBPE()
        #expect(encode(tokenizer, "a<|endoftext|>", parseSpecial: true) == [Int32(UInt8(ascii: "a")), 265])
        #expect(encode(tokenizer, "<|endoftext|>") == bytes("<|endoftext|>"))
    }

    @Test func bosIsAddedOnlyWhereTheVocabularyAsks() throws {
        #expect(try V.byteLevelBPE(pre: "gpt-2").encode("a") == [97])
        #expect(try V.byteLevelBPE(pre: "llama-bpe").encode("a") == [265, 97])
        let entries = V.byteLevelEntries(pre: "gpt-2", extra: [("tokenizer.ggml.add_bos_token", .bool(true))])
        #expect(try makeTokenizer(from: V.metadata(entries)).encode("a") == [265, 97])
    }

    @Test func decodingIsLosslessAndCleanUpIsOptional() throws {
        let tokenizer = try V.byteLevelBPE()
        for text in ["", " ", "héllo wörld 😀", "a\r\n\tb", "\u{0}\u{1F}\u{7F}", "Hello , world ! it 's"] {
            #expect(tokenizer.decode(encode(tokenizer, text)) == text)
        }
        let ids = encode(tokenizer, "Hello , world ! it 's")
        #expect(tokenizer.decode(ids, options: .llamaDetokenize) == "Hello, world! it's")
        #expect(tokenizer.decode([265, 97]) == "a")
        #expect(tokenizer.decode([265, 97], options: DecodingOptions(rendersSpecialTokens: true)) == "<|endoftext|>a")
        #expect(tokenizer.isEndOfGeneration(265))
    }

    @Test func cleanUpFollowsLlamaCppPasses() {
        let cases: [(String, String)] = [
            ("a , b . c ! d ? e", "a, b. c! d? e"),
            ("I ' m", "I'm"),
            ("it 's we 're they 've I 'm", "it's we're they've I'm"),
            ("don 't you 'll he 'd", "don 't you 'll he 'd"),
            (" ' ' ", "'' "),
            ("  ,", " ,"),
        ]
        for (input, expected) in cases {
            let output = Vocabulary.cleanUpSpaces(Array(input.utf8))
            #expect(String(decoding: output, as: UTF8.self) == expected, "\(input.debugDescription)")
        }
    }
}
