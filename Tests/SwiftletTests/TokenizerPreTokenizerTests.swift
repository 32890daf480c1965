import Testing
@testable import Swiftlet

/// The hand-written pre-tokenizer scanners against words worked out from their regular
/// expressions.
@Suite("Tokenizer pre-tokenizers")
struct TokenizerPreTokenizerTests {
    func words(_ text: String, _ preTokenizer: PreTokenizer) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        let flags = scalars.map { CodepointFlags.of($0).rawValue }
        var ends: [Int32] = []
        scalars.withUnsafeBufferPointer { s in
            flags.withUnsafeBufferPointer { f in preTokenizer.split(s, flags: f, into: &ends) }
        }
        var result: [String] = []
        var start = 0
        for end in ends {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[start..<Int(end)].map { Unicode.Scalar($0)! })
            result.append(String(view))
            start = Int(end)
        }
        return result
    }

    @Test func gpt2() {
        #expect(words("Hello world's 123 !!  \n\tX", .gpt2)
                == ["Hello", " world", "'s", " 123", " !!", "  \n", "\t", "X"])
        // Contractions are case sensitive; a space joins only the word after it.
        #expect(words("I'M don't", .gpt2) == ["I", "'", "M", " don", "'t"])
        #expect(words("a  ", .gpt2) == ["a", "  "])
        #expect(words("x\u{3000}y", .gpt2) == ["x", "\u{3000}", "y"])
        #expect(words("naïve café", .gpt2) == ["naïve", " café"])
        #expect(words("e\u{301}", .gpt2) == ["e", "\u{301}"])
    }

    @Test func llama3() {
        #expect(words("Hello world's 12345 !!\n\n  x", .llama3)
                == ["Hello", " world", "'s", " ", "123", "45", " !!\n\n", " ", " x"])
        // Contractions ignore case; a non-letter before letters joins them.
        #expect(words("I'M WE'RE", .llama3) == ["I", "'M", " WE", "'RE"])
        #expect(words("$hello \tworld", .llama3) == ["$hello", " ", "\tworld"])
        #expect(words("a \n\n b", .llama3) == ["a", " \n\n", " b"])
        #expect(words("😀😀 x", .llama3) == ["😀😀", " x"])
    }

    @Test func qwen2SplitsEveryDigit() {
        #expect(words("x 2024", .qwen2) == ["x", " ", "2", "0", "2", "4"])
    }

    @Test func standard() {
        // Punctuation apart, then GPT-2, then numbers apart, then three ASCII digits at a time.
        #expect(words("a+b=3456 x", .standard) == ["a", "+", "b", "=", "345", "6", " x"])
        // The first expression cuts punctuation out even of contractions and before spaces.
        #expect(words("it's, (ok)", .standard) == ["it", "'", "s", ",", " ", "(", "ok", ")"])
        #expect(words("1²345", .standard) == ["1²", "345"])
    }

    @Test func unknownNamesAreNotPreTokenizers() {
        #expect(PreTokenizer.configuration(named: "llama-bpe")?.preTokenizer == .llama3)
        #expect(PreTokenizer.configuration(named: "gpt-2")?.preTokenizer == .gpt2)
        #expect(PreTokenizer.configuration(named: "default")?.preTokenizer == .standard)
        #expect(PreTokenizer.configuration(named: "no-such-pre") == nil)
    }

    @Test func codepointClasses() {
        #expect(CodepointFlags.of(0x41).contains(.letter))
        #expect(CodepointFlags.of(0x0663).contains(.number))  // ARABIC-INDIC DIGIT THREE
        #expect(CodepointFlags.of(0x2009).contains(.whitespace))
        #expect(CodepointFlags.of(0x85).contains(.whitespace))
        #expect(!CodepointFlags.of(0x1C).contains(.whitespace))
        #expect(CodepointFlags.of(0x0378) == .undefined)
        #expect(CodepointFlags.of(0xE0001).contains(.control))  // LANGUAGE TAG (past the table)
        #expect(CodepointFlags.of(0x1F600).contains(.symbol))
    }
}
