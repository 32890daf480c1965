import Testing
@testable import Swiftlet

/// `StreamingDetokenizer`: complete characters only, the same text as `decode`.
@Suite("Tokenizer streaming detokenizer")
struct TokenizerStreamingTests {
    typealias V = TokenizerTestVocabularies

    @Test func holdsBackSplitCharacters() throws {
        let tokenizer = try V.sentencePiece()
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        let ids = [V.pieceID("▁")] + [0xF0, 0x9F, 0x98, 0x80].map(V.byteToken)  // " 😀"
        #expect(ids.map { stream.append($0) } == ["", "", "", "", "😀"])
        #expect(stream.pendingByteCount == 0)
        #expect(stream.finish() == "")
    }

    @Test func finishFlushesIncompleteBytesAsReplacement() throws {
        let tokenizer = try V.sentencePiece()
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(stream.append(V.byteToken(0xE2)) == "")
        #expect(stream.append(V.byteToken(0x82)) == "")
        #expect(stream.pendingByteCount == 2)
        #expect(stream.finish() == "\u{FFFD}")
        #expect(stream.finish() == "")
    }

    @Test func bytesThatCannotStartACharacterAreNotHeld() throws {
        let tokenizer = try V.sentencePiece()
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(stream.append(V.byteToken(0xFF)) == "\u{FFFD}")
        // A lead byte followed by a byte that cannot continue it is given up at once.
        #expect(stream.append(V.byteToken(0xE0)) == "")
        #expect(stream.append(V.byteToken(0x41)) == "\u{FFFD}A")
    }

    @Test func leadingSpaceRuleMatchesDecode() throws {
        let tokenizer = try V.sentencePiece()
        var start = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(start.append(V.pieceID("▁ab")) == "ab")
        var continuation = StreamingDetokenizer(tokenizer: tokenizer, startsText: false)
        #expect(continuation.append(V.pieceID("▁ab")) == " ab")
        var afterBOS = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(afterBOS.append(1) == "")
        #expect(afterBOS.append(V.pieceID("▁ab")) == " ab")
        var rendered = StreamingDetokenizer(tokenizer: tokenizer, rendersSpecialTokens: true)
        #expect(rendered.append(contentsOf: [1, V.pieceID("▁ab"), 2]) == "<s> ab</s>")
    }

    @Test func byteLevelPiecesSplitInsideCharacters() throws {
        let tokenizer = try V.byteLevelBPE()
        let ids = tokenizer.encode("né😀!", addSpecialTokens: false, parseSpecial: false)
        #expect(ids.count == 8)  // no merges apply: one token per byte
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        let chunks = ids.map { stream.append($0) }
        #expect(chunks == ["n", "", "é", "", "", "", "😀", "!"])
    }

    @Test func completePrefixLengthRules() {
        #expect(StreamingDetokenizer.completePrefixLength([]) == 0)
        #expect(StreamingDetokenizer.completePrefixLength([0x41, 0xC3]) == 1)
        #expect(StreamingDetokenizer.completePrefixLength([0xC3, 0xA9]) == 2)
        #expect(StreamingDetokenizer.completePrefixLength([0xF0, 0x9F, 0x98]) == 0)
        #expect(StreamingDetokenizer.completePrefixLength([0xE0, 0x80]) == 2)  // overlong: never valid
        #expect(StreamingDetokenizer.completePrefixLength([0xED, 0xA0]) == 2)  // surrogate: never valid
        #expect(StreamingDetokenizer.completePrefixLength([0xF4, 0x90]) == 2)  // past U+10FFFF
        #expect(StreamingDetokenizer.completePrefixLength([0x80, 0x80, 0x80, 0x80, 0x80]) == 5)
    }
}
