import Testing
@testable import Swiftlet

/// SentencePiece-style BPE on a vocabulary the test builds (`TokenizerTestVocabularies`).
@Suite("Tokenizer SentencePiece")
struct TokenizerSentencePieceTests {
    typealias V = TokenizerTestVocabularies

    func encode(_ tokenizer: any Tokenizer, _ text: String, parseSpecial: Bool = false) -> [Int32] {
        tokenizer.encode(text, addSpecialTokens: false, parseSpecial: parseSpecial)
    }

    @Test func highestScoringPairMergesFirst() throws {
        let tokenizer = try V.sentencePiece()
        // "▁ab": "ab" (-0.5) beats "▁a" (-1.5); then "▁ab" (-0.2) joins the rest.
        #expect(encode(tokenizer, "ab") == [V.pieceID("▁ab")])
        // "▁abc": "bc" (-0.1) goes first and leaves "▁a" + "bc" ("abc" is no token).
        #expect(encode(tokenizer, "abc") == [V.pieceID("▁a"), V.pieceID("bc")])
    }

    @Test func equalScoresMergeLeftmostFirst() throws {
        let tokenizer = try V.sentencePiece()
        #expect(encode(tokenizer, "aaa") == [V.pieceID("▁"), V.pieceID("aa"), V.pieceID("a")])
    }

    @Test func spacesBecomeSpaceMarkers() throws {
        let tokenizer = try V.sentencePiece()
        #expect(encode(tokenizer, "a  b") == [V.pieceID("▁a"), V.pieceID("▁▁"), V.pieceID("b")])
        #expect(encode(tokenizer, "") == [])
        #expect(encode(tokenizer, " ") == [V.pieceID("▁▁")])
    }

    @Test func unknownCharactersFallBackToBytes() throws {
        let tokenizer = try V.sentencePiece()
        #expect(encode(tokenizer, "é") == [V.pieceID("▁"), V.byteToken(0xC3), V.byteToken(0xA9)])
        #expect(encode(tokenizer, "\n") == [V.pieceID("▁"), V.byteToken(0x0A)])
    }

    @Test func withoutByteTokensUnknownCharactersBecomeUnknown() throws {
        let tokenizer = try V.sentencePiece(byteTokens: false)
        #expect(encode(tokenizer, "é") == [V.pieceID("▁"), 0, 0])
    }

    @Test func controlTokensAreNeverMadeFromPlainText() throws {
        let tokenizer = try V.sentencePiece()
        // "<s" is a piece, and "<s>" is the text of BOS: plain text still stops at "<s" + ">".
        let ids = encode(tokenizer, "<s>")
        #expect(ids == [V.pieceID("▁"), V.pieceID("<s"), V.pieceID(">")])
        #expect(!ids.contains(1))
    }

    @Test func specialTokenTextIsParsedOnlyWhenAsked() throws {
        let tokenizer = try V.sentencePiece()
        #expect(encode(tokenizer, "<s>ab</s>", parseSpecial: true) == [1, V.pieceID("▁ab"), 2])
        #expect(!encode(tokenizer, "<s>ab</s>").contains(1))
        #expect(encode(tokenizer, "<unk>", parseSpecial: true) == [0])
    }

    @Test func userDefinedTokensAreAlwaysMatched() throws {
        let tokenizer = try V.sentencePiece()
        // Text after a token gets the dummy-prefix space again.
        #expect(encode(tokenizer, "x<tool>x") == [V.pieceID("▁x"), V.pieceID("<tool>"), V.pieceID("▁x")])
    }

    @Test func bosAndEOSFollowTheVocabularyFlags() throws {
        let tokenizer = try V.sentencePiece()
        #expect(tokenizer.addsBOSToken)
        #expect(tokenizer.encode("ab") == [1, V.pieceID("▁ab")])
        #expect(tokenizer.encode("") == [1])
        let withEOS = try V.sentencePiece(extra: [("tokenizer.ggml.add_eos_token", .bool(true))])
        #expect(withEOS.encode("ab") == [1, V.pieceID("▁ab"), 2])
        let withoutBOS = try V.sentencePiece(extra: [("tokenizer.ggml.add_bos_token", .bool(false))])
        #expect(withoutBOS.encode("ab") == [V.pieceID("▁ab")])
        #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenID == 2 && tokenizer.unknownTokenID == 0)
        #expect(tokenizer.paddingTokenID == nil)
        #expect(tokenizer.vocabularySize == 259 + V.sentencePiecePieces.count)
    }

    @Test func withoutSpacePrefixTheTextIsTakenAsIs() throws {
        let tokenizer = try V.sentencePiece(extra: [("tokenizer.ggml.add_space_prefix", .bool(false))])
        #expect(encode(tokenizer, "ab") == [V.pieceID("ab")])
        #expect(tokenizer.decode([V.pieceID("▁ab")]) == " ab")
    }

    @Test func decodingDropsOneLeadingSpaceOfTheFirstPiece() throws {
        let tokenizer = try V.sentencePiece()
        #expect(tokenizer.decode([V.pieceID("▁ab")]) == "ab")
        #expect(tokenizer.decode([V.pieceID("▁▁"), V.pieceID("b")]) == " b")
        #expect(tokenizer.decode([V.pieceID("▁"), V.byteToken(0xC3), V.byteToken(0xA9)]) == "é")
        // llama.cpp spends the rule on a leading BOS, shown or not.
        #expect(tokenizer.decode([1, V.pieceID("▁ab")]) == " ab")
        #expect(tokenizer.decode([1, V.pieceID("▁ab")], options: DecodingOptions(rendersSpecialTokens: true)) == "<s> ab")
        #expect(tokenizer.decode([1, V.pieceID("▁ab")], options: DecodingOptions(removesAddedSpecialTokens: true)) == " ab")
        // A continuation keeps its spaces.
        #expect(tokenizer.decode([V.pieceID("▁ab")], options: DecodingOptions(startsText: false)) == " ab")
    }

    @Test func decodingHidesControlAndUnknownTokensAndSkipsBadIDs() throws {
        let tokenizer = try V.sentencePiece()
        #expect(tokenizer.decode([0, 2, -1, 99_999, V.pieceID("x")]) == "x")
        #expect(tokenizer.decode([0, 2], options: DecodingOptions(rendersSpecialTokens: true)) == "<unk></s>")
        #expect(tokenizer.decode([V.pieceID("<tool>")]) == "<tool>")
        #expect(tokenizer.pieceBytes(of: 1) == Array("<s>".utf8))
        #expect(tokenizer.pieceBytes(of: V.byteToken(0xE2)) == [0xE2])
    }

    @Test func endOfGenerationIsEOS() throws {
        let tokenizer = try V.sentencePiece()
        #expect(tokenizer.isEndOfGeneration(2))
        #expect(!tokenizer.isEndOfGeneration(1))
        #expect(!tokenizer.isEndOfGeneration(V.pieceID("a")))
    }

    @Test func roundTripsTextWithoutSpaceMarkers() throws {
        let tokenizer = try V.sentencePiece()
        for text in ["", "a", " a", "a ", "  ab  c ", "héllo\n\twörld 😀", "<s> </s>", "\u{0}\u{7F}"] {
            #expect(tokenizer.decode(encode(tokenizer, text)) == text)
        }
    }
}
