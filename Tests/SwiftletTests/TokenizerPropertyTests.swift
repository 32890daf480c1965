import Testing
@testable import Swiftlet

/// Seeded random text and ids: decoding inverts encoding, and streaming equals decoding,
/// on the project's own vocabularies and, where present, on llama.cpp's fixture ones.
@Suite("Tokenizer properties")
struct TokenizerPropertyTests {
    typealias V = TokenizerTestVocabularies

    /// SplitMix64: a small, seeded, platform-independent generator.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Pieces random text is made of: ASCII words and punctuation, unusual whitespace,
    /// emoji (with modifiers and joiners), CJK, combining marks, other scripts, control
    /// characters, contractions, special-token text, digits of other scripts.
    static let fragments: [String] = [
        "a", "Z", "the", " word", "don't", "'S", "'ll", "42", "3.14", "  ", " ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}",
        "\u{A0}", "\u{2009}", "\u{3000}", "\u{85}", "\u{2028}", "\u{1C}", "!", "?!", "...", "--", "```", "\"", "'",
        "😀", "👍🏽", "👨‍👩‍👧", "🏳️‍🌈", "🇯🇵", "🦙", "我想", "日本語", "한국어", "e\u{301}", "\u{301}", "n\u{303}\u{308}",
        "مرحبا", "नमस्ते", "สวัสดี", "ខ្មែរ", "αβγ", "жизнь", "\u{0}", "\u{1}", "\u{7F}", "\u{200B}", "\u{200D}",
        "\u{FEFF}", "\u{E000}", "\u{F0000}", "\u{E0041}", "\u{378}", "𝐀", "١٢٣", "²", "½", "Ⅻ", "<s>", "</s>",
        "<|endoftext|>", "<|begin_of_text|>", "<0x41>", "Ġ", "Ċ",
    ]

    static func randomText(_ rng: inout SplitMix64, allowsSpaceMarker: Bool = true,
                           keeps: (Unicode.Scalar) -> Bool = { _ in true }) -> String {
        var text = ""
        let count = Int.random(in: 0...24, using: &rng)
        for _ in 0..<count {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:
                // Any scalar at all.
                var scalar: Unicode.Scalar?
                while scalar == nil { scalar = Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &rng)) }
                text.unicodeScalars.append(scalar!)
            default:
                text += fragments.randomElement(using: &rng)!
            }
        }
        if !allowsSpaceMarker { text = String(text.unicodeScalars.filter { $0 != "\u{2581}" }.map(Character.init)) }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: text.unicodeScalars.filter(keeps))
        return String(kept)
    }

    /// The bytes a vocabulary can spell one at a time (a byte-level character token, or
    /// `<0xXX>`). Some real vocabularies lack a few (StarCoder has no token for the UTF-8
    /// lead byte 0xF1, Falcon none for some control bytes): text with those bytes cannot
    /// come back, so the round trips leave out the scalars that need them.
    static func spelledBytes(_ vocabulary: Vocabulary) -> Set<UInt8> {
        Set((0...255).map(UInt8.init).filter { byte in
            switch vocabulary.model {
            case .byteLevelBPE:
                return vocabulary.tokenID(ByteLevelEncoding.utf8ForByte[Int(byte)]) != nil
            case .sentencePiece:
                let hex = "<0x" + String(decoding: Vocabulary.hexDigits(byte, uppercase: true), as: UTF8.self) + ">"
                return vocabulary.id(of: hex) != nil
            }
        })
    }

    /// Decoding inverts encoding without BOS. SentencePiece writes spaces as `▁`, so a
    /// literal `▁` in the text comes back as a space: those texts leave it out.
    func checkRoundTrips(_ tokenizer: any Tokenizer, seed: UInt64, count: Int) {
        var rng = SplitMix64(state: seed)
        let keepsMarker = tokenizer.vocabulary.model == .byteLevelBPE
        let spelled = Self.spelledBytes(tokenizer.vocabulary)
        let keeps: (Unicode.Scalar) -> Bool = spelled.count == 256 ? { _ in true } : { scalar in
            String(scalar).utf8.allSatisfy(spelled.contains)
        }
        for _ in 0..<count {
            let text = Self.randomText(&rng, allowsSpaceMarker: keepsMarker, keeps: keeps)
            let ids = tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false)
            #expect(tokenizer.decode(ids) == text, "\(text.debugDescription)")
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var streamed = ""
            for id in ids {
                let chunk = stream.append(id)
                #expect(!chunk.unicodeScalars.contains("\u{FFFD}") || text.unicodeScalars.contains("\u{FFFD}"))
                streamed += chunk
            }
            #expect(streamed + stream.finish() == text)
        }
    }

    /// Streaming any ids at all, including byte pieces that never make a character, gives
    /// exactly `decode`'s text.
    func checkStreamingEqualsDecode(_ tokenizer: any Tokenizer, seed: UInt64, count: Int) {
        var rng = SplitMix64(state: seed)
        for _ in 0..<count {
            let ids = (0..<Int.random(in: 0...30, using: &rng)).map { _ in
                Int32.random(in: 0..<Int32(tokenizer.vocabularySize), using: &rng)
            }
            for startsText in [true, false] {
                var stream = StreamingDetokenizer(tokenizer: tokenizer, startsText: startsText)
                let streamed = stream.append(contentsOf: ids) + stream.finish()
                #expect(streamed == tokenizer.decode(ids, options: DecodingOptions(startsText: startsText)))
            }
        }
    }

    @Test func ownVocabulariesRoundTrip() throws {
        checkRoundTrips(try V.sentencePiece(), seed: 1, count: 300)
        checkRoundTrips(try V.byteLevelBPE(pre: "gpt-2"), seed: 2, count: 300)
        checkRoundTrips(try V.byteLevelBPE(pre: "llama-bpe"), seed: 3, count: 300)
        checkRoundTrips(try V.byteLevelBPE(pre: "default"), seed: 4, count: 300)
        checkRoundTrips(try V.byteLevelBPE(pre: "qwen2"), seed: 5, count: 300)
    }

    @Test func ownVocabulariesStreamLikeDecode() throws {
        checkStreamingEqualsDecode(try V.sentencePiece(), seed: 6, count: 300)
        checkStreamingEqualsDecode(try V.byteLevelBPE(), seed: 7, count: 300)
    }

    @Test(.enabled(if: TokenizerFixtures.available, "llama.cpp tokenizer fixtures not found in ../shared/fixtures/tokenizer"),
          arguments: TokenizerFixtures.vocabularies)
    func fixtureVocabulariesRoundTrip(vocabulary: String) throws {
        guard TokenizerFixtures.available(vocabulary) else { return }
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        checkRoundTrips(tokenizer, seed: 42, count: 300)
        checkStreamingEqualsDecode(tokenizer, seed: 43, count: 200)
    }
}
