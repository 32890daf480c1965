import Foundation
import Testing
@testable import Swiftlet

/// Inputs the libFuzzer targets in `Fuzz/` stopped on, replayed through the same checks.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    typealias V = TokenizerTestVocabularies

    /// `Fuzz/Targets/Tokenizer.swift`, 2026-12-02: text mode, the tests' SentencePiece
    /// vocabulary. The round-trip check failed: text after the user-defined `<tool>` gets
    /// the dummy space prefix (llama.cpp's rule for text after any special token), which
    /// decoding keeps. Not a reader bug; the check now leaves such texts out, and this pins
    /// the behaviour and the invariants that do hold.
    @Test func sentencePieceTextAfterAUserDefinedTokenKeepsItsDummyPrefix() throws {
        let input = Array(Data(base64Encoded: "ACEJCiBbwqAAAMKgIGFiY2FiYyg8dG9vbD4g6iB/c2Fi////ypaBeA==")!)
        let text = String(decoding: input[2...], as: UTF8.self)
        let tokenizer = try V.sentencePiece()
        let ids = tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false)
        #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
        #expect(ids.contains(try #require(tokenizer.vocabulary.id(of: "<tool>"))))
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(stream.append(contentsOf: ids) + stream.finish() == tokenizer.decode(ids))
        let decoded = tokenizer.decode(ids)
        #expect(decoded == text.replacingOccurrences(of: "<tool> ", with: "<tool>  "), "\(decoded.debugDescription)")
    }
}
