import Testing
@testable import Swiftlet

/// llama.cpp's own tokenizer test vectors (test-tokenizer-0) for a SentencePiece vocabulary
/// (Llama 2), GPT-2 and Llama 3: every case must give exactly llama.cpp's ids, decode back to
/// its text, and stream back to its text.
@Suite("Tokenizer fixtures (llama.cpp vectors)", .enabled(if: TokenizerFixtures.available, "llama.cpp tokenizer fixtures not found in ../shared/fixtures/tokenizer"))
struct TokenizerFixtureTests {
    @Test(arguments: TokenizerFixtures.vocabularies)
    func encodingMatchesLlamaCpp(vocabulary: String) throws {
        guard TokenizerFixtures.available(vocabulary) else {
            print("\(vocabulary): fixture files absent, skipped")
            return
        }
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        let cases = try TokenizerFixtures.cases(vocabulary)
        #expect(cases.count > 30)
        var passed = 0
        for testCase in cases {
            let ids = tokenizer.encode(testCase.text, addSpecialTokens: false, parseSpecial: false)
            #expect(ids == testCase.ids, "\(vocabulary): \(testCase.text.debugDescription)")
            if ids == testCase.ids { passed += 1 }
        }
        print("\(vocabulary): \(passed)/\(cases.count) fixture cases match llama.cpp")
    }

    /// Without BOS the SentencePiece dummy-prefix space is added by encoding and dropped by
    /// decoding, so every case comes back exactly.
    @Test(arguments: TokenizerFixtures.vocabularies)
    func decodingRoundTrips(vocabulary: String) throws {
        guard TokenizerFixtures.available(vocabulary) else { return }
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        for testCase in try TokenizerFixtures.cases(vocabulary) {
            #expect(tokenizer.decode(testCase.ids) == testCase.text, "\(vocabulary): \(testCase.text.debugDescription)")
        }
    }

    /// With BOS first, llama.cpp's leading-space rule is spent on the (invisible) BOS, so the
    /// SentencePiece dummy-prefix space stays: a text comes back with one space in front.
    /// Byte-level BPE adds no prefix, so its text comes back as it was.
    @Test(arguments: TokenizerFixtures.vocabularies)
    func decodingWithBOSKeepsLlamaCppLeadingSpace(vocabulary: String) throws {
        guard TokenizerFixtures.available(vocabulary) else { return }
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        for testCase in try TokenizerFixtures.cases(vocabulary) {
            // The empty text gets no prefix: there is no text fragment to put it on.
            let prefix = tokenizer.vocabulary.addsSpacePrefix && !testCase.text.isEmpty ? " " : ""
            let ids = tokenizer.encode(testCase.text)
            if tokenizer.addsBOSToken {
                #expect(ids.first == tokenizer.bosTokenID)
                #expect(Array(ids.dropFirst()) == testCase.ids)
                #expect(tokenizer.decode(ids) == prefix + testCase.text)
            } else {
                #expect(ids == testCase.ids)
            }
        }
    }

    @Test(arguments: TokenizerFixtures.vocabularies)
    func streamingMatchesDecode(vocabulary: String) throws {
        guard TokenizerFixtures.available(vocabulary) else { return }
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        for testCase in try TokenizerFixtures.cases(vocabulary) {
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            var streamed = ""
            for id in testCase.ids {
                let chunk = detokenizer.append(id)
                #expect(!chunk.unicodeScalars.contains("\u{FFFD}"), "incomplete UTF-8 emitted for \(testCase.text.debugDescription)")
                streamed += chunk
            }
            streamed += detokenizer.finish()
            #expect(streamed == tokenizer.decode(testCase.ids))
            #expect(streamed == testCase.text)
        }
    }

    /// The Llama 2 vocabulary written as llama2.c's `tokenizer.bin` reads back into a
    /// tokenizer that gives llama.cpp's ids too.
    @Test func llama2TokenizerFileMatchesToo() throws {
        let gguf = try TokenizerFixtures.tokenizer("llama-spm")
        let vocabulary = gguf.vocabulary
        let tokens = (0..<vocabulary.count).map { vocabulary.text(of: Int32($0))! }
        let bytes = Llama2TokenizerFile.serialized(tokens: tokens, scores: vocabulary.scores)
        let tokenizer = try bytes.withUnsafeBytes { try Llama2TokenizerFile.tokenizer(from: $0) }
        #expect(tokenizer.vocabulary.attributes == vocabulary.attributes)
        for testCase in try TokenizerFixtures.cases("llama-spm") {
            let ids = tokenizer.encode(testCase.text, addSpecialTokens: false, parseSpecial: false)
            #expect(ids == testCase.ids, "\(testCase.text.debugDescription)")
            #expect(tokenizer.decode(ids) == testCase.text)
        }
    }
}
