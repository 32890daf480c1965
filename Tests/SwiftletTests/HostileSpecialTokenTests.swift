import Foundation
import Testing
@testable import Swiftlet

/// Issue 15, case 8: special and user-defined tokens are found in time linear in the text
/// (it was tokens × text: 20,000 user-defined tokens and a 100 KB prompt took 11.7 s).
@Suite("Hostile input: many special tokens")
struct HostileSpecialTokenTests {
    typealias V = TokenizerTestVocabularies

    /// The former matcher (llama.cpp's `tokenizer_st_partition`): tokens longest first, each
    /// cut at every occurrence in the text fragments the longer ones left. A reference only.
    static func longestFirstFragments(_ vocabulary: Vocabulary, _ text: [UInt8], parseSpecial: Bool) -> [TextFragment] {
        guard !text.isEmpty else { return [] }
        let order = vocabulary.attributes.indices
            .filter { !vocabulary.attributes[$0].isDisjoint(with: TokenAttributes.special) }
            .filter { parseSpecial || vocabulary.attributes[$0].isDisjoint(with: TokenAttributes.hiddenUnlessRendered) }
            .sorted { a, b in
                let (la, lb) = (vocabulary.texts.length(at: a), vocabulary.texts.length(at: b))
                return la != lb ? la > lb : a < b
            }
        var fragments: [TextFragment] = [.text(0..<text.count)]
        for id in order {
            let needle = Array(vocabulary.texts.bytes(at: id))
            guard !needle.isEmpty else { continue }
            var next: [TextFragment] = []
            for fragment in fragments {
                guard case .text(let range) = fragment else { next.append(fragment); continue }
                var start = range.lowerBound
                var position = range.lowerBound
                while position + needle.count <= range.upperBound {
                    if text[position..<(position + needle.count)].elementsEqual(needle) {
                        if position > start { next.append(.text(start..<position)) }
                        next.append(.token(Int32(id)))
                        position += needle.count
                        start = position
                    } else {
                        position += 1
                    }
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    /// SentencePiece entries with `userDefined` (type 4) and `control` (type 3) tokens added.
    static func entries(userDefined: [String], control: [String] = []) -> [(String, GGUFValue)] {
        var result = V.sentencePieceEntries()
        func extend(_ key: String, _ values: [GGUFValue]) {
            let index = result.firstIndex { $0.0 == key }!
            result[index].1 = .array(Array(result[index].1.arrayElements!) + values)
        }
        let added = userDefined + control
        extend("tokenizer.ggml.tokens", added.map { .string($0) })
        extend("tokenizer.ggml.scores", added.map { _ in .float32(0) })
        extend("tokenizer.ggml.token_type", userDefined.map { _ in .int32(4) } + control.map { _ in .int32(3) })
        return result
    }

    static func fragments(_ tokenizer: any Tokenizer, _ text: String, parseSpecial: Bool) -> [TextFragment] {
        Array(text.utf8).withUnsafeBytes { tokenizer.vocabulary.fragments(of: $0, parseSpecial: parseSpecial) }
    }

    @Test func sameCutsAsTheFormerMatcherWhereTokensDoNotOverlap() throws {
        let tokenizer = try makeTokenizer(from: V.metadata(Self.entries(
            userDefined: ["<tool>", "ab", "xyz", "aaa", "€"], control: ["<|im_start|>", "<|im_end|>", "<|im"])))
        let texts = [
            "", "plain", "<tool>call<tool>", "aaaaaaa ab xyzxyz", "<|im_start|>user\nhi<|im_end|>", "<|im<|im_end|>",
            "€€ a€b", "<tool", "ab<tool>ab", "x<|im_start|><|im_start|>y",
        ]
        for text in texts {
            for parseSpecial in [false, true] {
                let expected = Self.longestFirstFragments(tokenizer.vocabulary, Array(text.utf8), parseSpecial: parseSpecial)
                #expect(Self.fragments(tokenizer, text, parseSpecial: parseSpecial) == expected, "\(text.debugDescription) \(parseSpecial)")
            }
        }
        // Where two special texts overlap, the leftmost match wins (the former matcher took the longer one).
        let overlap = try makeTokenizer(from: V.metadata(Self.entries(userDefined: ["ab", "bcd"])))
        let ab = try #require(overlap.vocabulary.id(of: "ab"))
        #expect(Self.fragments(overlap, "abcd", parseSpecial: false) == [.token(ab), .text(2..<4)])
    }

    @Test(.enabled(if: TokenizerFixtures.available, "llama.cpp tokenizer fixtures not found in ../shared/fixtures/tokenizer"),
          arguments: TokenizerFixtures.vocabularies)
    func sameCutsOnFixtureVocabularies(vocabulary: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        let specials = tokenizer.vocabulary.attributes.indices
            .filter { !tokenizer.vocabulary.attributes[$0].isDisjoint(with: TokenAttributes.special) }
            .prefix(40)
            .map { tokenizer.vocabulary.text(of: Int32($0))! }
        for (index, testCase) in try TokenizerFixtures.cases(vocabulary).enumerated() {
            let spliced = specials.isEmpty ? testCase.text
                : specials[index % specials.count] + testCase.text + specials[(index * 7) % specials.count] + " x"
            for text in [testCase.text, spliced] {
                for parseSpecial in [false, true] {
                    let expected = Self.longestFirstFragments(tokenizer.vocabulary, Array(text.utf8), parseSpecial: parseSpecial)
                    #expect(Self.fragments(tokenizer, text, parseSpecial: parseSpecial) == expected, "\(vocabulary): \(text.debugDescription)")
                }
            }
        }
    }

    @Test func manyUserDefinedTokensAndALongPromptTokenizeQuickly() throws {
        // 20,000 user-defined tokens starting with "a", none of which occurs in a 100 KB prompt of "a".
        let tokens = (0..<20_000).map { "a\($0)" }
        let tokenizer = try makeTokenizer(from: V.metadata(Self.entries(userDefined: tokens)))
        let text = String(repeating: "a", count: 100_000)
        let started = Date()
        let ids = tokenizer.encode(text, addSpecialTokens: false, parseSpecial: true)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(tokenizer.decode(ids) == text)
        // Tokens that do occur, many and overlapping ("a", "aa", ... "a" × 300): the longest wins.
        let runs = (1...300).map { String(repeating: "a", count: $0) }
        let nested = try makeTokenizer(from: V.metadata(Self.entries(userDefined: runs)))
        let longest = try #require(nested.vocabulary.id(of: runs.last!))
        let cut = Self.fragments(nested, String(repeating: "a", count: 100_000), parseSpecial: false)
        #expect(cut.count == 334)
        #expect(cut.prefix(333).allSatisfy { $0 == .token(longest) })
        #expect(cut.last == .token(nested.vocabulary.id(of: String(repeating: "a", count: 100))!))
    }

    @Test func longTextFragmentsAreCutAtCharacterBoundaries() throws {
        let tokenizer = try makeTokenizer(from: V.metadata(Self.entries(userDefined: ["<tool>"])))
        let text = Array("€€€€€<tool>ab€€".utf8)
        let cut = text.withUnsafeBytes {
            tokenizer.vocabulary.specialTokenMatcher.fragments(of: $0, parseSpecial: false, maxTextBytes: 4)
        }
        var rebuilt: [UInt8] = []
        for fragment in cut {
            switch fragment {
            case .text(let range):
                #expect(range.count <= 4)
                #expect(String(validating: text[range], as: UTF8.self) != nil, "\(range) splits a character")
                rebuilt += text[range]
            case .token(let id):
                rebuilt += Array(tokenizer.vocabulary.text(of: id)!.utf8)
            }
        }
        #expect(rebuilt == text)
    }

    @Test func tokenizeCommandWithManyUserDefinedTokens() throws {
        let folder = try HostileInput.folder("special-tokens")
        defer { try? FileManager.default.removeItem(at: folder) }
        var writer = GGUFWriter()
        for (key, value) in Self.entries(userDefined: (0..<20_000).map { "a\($0)" }) { writer.add(key, value) }
        let path = HostileInput.write(writer.serialized(), "vocab.gguf", in: folder)
        let started = Date()
        let run = try runSwiftlet(["tokenize", "--model", path, "--json", "--parse-special", String(repeating: "a", count: 100_000)])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("["))
        #expect(Date().timeIntervalSince(started) < 30)
    }
}
