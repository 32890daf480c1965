import Testing
@testable import Swiftlet

/// The rule-based pre-tokenizers against words worked out by hand from llama.cpp's
/// expressions, and every `tokenizer.ggml.pre` name llama.cpp knows for BPE.
@Suite("Tokenizer pre-tokenizer rules")
struct TokenizerPreTokenizerRuleTests {
    func words(_ text: String, _ preTokenizer: PreTokenizer) -> [String] {
        TokenizerPreTokenizerTests().words(text, preTokenizer)
    }

    @Test func numbersApartThenGPT2() {
        #expect(words("abc 1234 x", .starCoder) == ["abc", " ", "1", "2", "3", "4", " x"])
    }

    @Test func falconPunctuationThenDigitTriples() {
        #expect(words("a+b 1234", .falcon) == ["a", "+", "b", " ", "123", "4"])
        #expect(words("x`y", .falcon) == ["x", "`", "y"])
    }

    @Test func casedWords() {
        #expect(words("HelloWorld ABC", .tekken) == ["Hello", "World", " ABC"])
        #expect(words("I'm HAPPY 12345", .gpt4o) == ["I'm", " HAPPY", " ", "123", "45"])
        #expect(words("I'm", .tekken) == ["I", "'m"])
    }

    @Test func deepSeek() {
        #expect(words("a12345", .deepSeekV3) == ["a", "123", "45"])
        #expect(words("Hello 世界 123", .deepSeekLLM) == ["Hello", " ", "世界", " ", "123"])
        #expect(words("x = 42;\n", .deepSeekCoder) == ["x", " = ", "4", "2", ";", "\n"])
    }

    @Test func marksStayInWords() {
        #expect(words("e\u{301}x", .qwen35) == ["e\u{301}x"])
        #expect(words("e\u{301}x", .qwen2) == ["e", "\u{301}x"])
    }

    @Test func digitGroups() {
        #expect(words("1234567 12a", .tinyAya) == ["1", "234", "567", " ", "12", "a"])
        #expect(words("x1234567y", .superBPE) == ["x", "1", "234", "567", "y"])
        #expect(words("ab1234 c", .afmoe) == ["ab", "1", "234", " c"])
    }

    @Test func otherExpressions() {
        #expect(words("Hello, world (x)", .bloom) == ["Hello", ",", " world", " (", "x", ")"])
        #expect(words("<sentinel:12>IMGIMGABZ  x", .chameleon)
                == ["<", "sentinel", ":", "1", "2", ">", "IMGIMGABZ", "  ", "x"])
        #expect(words("a b\n\nc", .lines) == ["a b", "\n\n", "c"])
        #expect(words("a" + String(repeating: " ", count: 10) + "b", .jais2)
                == ["a", String(repeating: " ", count: 8), " ", " b"])
        #expect(words("one two, three", .exaoneMoE) == ["one two", ",", " three"])
        #expect(words("\u{4E2D}\u{6587}abc", .kimiK2) == ["\u{4E2D}\u{6587}", "abc"])
    }

    /// The hand-written scanners run no rules.
    @Test func handWrittenScannersHaveNoRules() {
        for p in [PreTokenizer.gpt2, .llama3, .qwen2, .qwen35, .standard] { #expect(p.rules.isEmpty) }
    }

    /// Qwen 3.5's hand-written scanner cuts random text exactly as its expression does.
    @Test func qwen35ScannerEqualsItsExpression() {
        var rng = TokenizerPropertyTests.SplitMix64(state: 35)
        for _ in 0..<2000 {
            let text = TokenizerPropertyTests.randomText(&rng)
            let scalars = text.unicodeScalars.map(\.value)
            let flags = scalars.map { CodepointFlags.of($0).rawValue }
            var byRules: [Int32] = []
            scalars.withUnsafeBufferPointer { s in
                flags.withUnsafeBufferPointer { f in
                    let scanner = PreTokenizer.Scanner(scalars: s, flags: f)
                    for rule in PreTokenizer.qwen35Expression { rule.apply(0, s.count, scanner, &byRules) }
                }
            }
            #expect(words(text, .qwen35).map { $0.unicodeScalars.count } == Self.lengths(byRules), "\(text.debugDescription)")
        }
    }

    static func lengths(_ ends: [Int32]) -> [Int] {
        var start = 0
        return ends.map { end in
            defer { start = Int(end) }
            return Int(end) - start
        }
    }

    /// Every name in llama.cpp's loader for BPE vocabularies (tokenizer model "gpt2").
    static let knownNames = [
        "default", "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
        "jina-v5-nano", "dbrx", "smaug-bpe", "glm4", "chatglm-bpe", "gpt-2", "phi-2", "jina-es", "jina-de",
        "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "mpt", "olmo", "jais", "exaone4",
        "jina-v1-en", "jina-v2-code", "roberta-bpe", "trillion", "granite-docling", "stablelm2", "megrez", "qwen2",
        "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2", "qwen35", "starcoder", "refact",
        "codeshell", "exaone", "minerva-7b", "mellum2", "command-r", "smollm", "falcon", "deepseek-llm",
        "deepseek-coder", "deepseek-v3", "hunyuan-dense", "hy_v4", "joyai-llm", "spark2_5", "youtu", "jais-2",
        "tekken", "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2", "granite-embed-multi-97m", "tiny_aya",
        "cohere2moe", "kimi-k2", "superbpe", "bailingmoe", "bailingmoe2", "llada-moe", "seed-coder", "ufakzeka",
        "afmoe", "laguna", "exaone-moe", "minicpm5", "poro-chat", "bloom", "gpt3-finnish", "viking", "chameleon",
    ]

    /// Each loads and round-trips text on a small byte-level vocabulary.
    @Test(arguments: knownNames)
    func everyKnownNameLoads(name: String) throws {
        let tokenizer = try TokenizerTestVocabularies.byteLevelBPE(pre: name)
        let text = "Hello world, the 12345 zz\n\tdon't 世界 é"
        #expect(tokenizer.decode(tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false)) == text)
    }

    @Test func flagsFollowLlamaCpp() {
        #expect(PreTokenizer.configuration(named: "smollm") == PreTokenizerConfiguration(preTokenizer: .starCoder, cleansUpSpaces: false))
        #expect(PreTokenizer.configuration(named: "tekken")
                == PreTokenizerConfiguration(preTokenizer: .tekken, ignoresMerges: true, addsBOS: true, cleansUpSpaces: false))
        #expect(PreTokenizer.configuration(named: "gemma4")?.spellsSpacesAsMarker == true)
        #expect(PreTokenizer.configuration(named: "whitespace") == nil)
        #expect(PreTokenizer.configuration(named: "no-such-pre") == nil)
    }
}
