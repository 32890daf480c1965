import Foundation
import Testing
@testable import Swiftlet

/// Issue 15, case 2: a byte-level vocabulary with one long token of characters outside the
/// byte alphabet loads in memory linear in its size (llama.cpp's `[UNK_BYTE_0x…]` marker
/// repeats the whole text per such character), and the string table's offsets cannot wrap.
@Suite("Hostile input: long byte-level tokens")
struct HostileVocabularyTests {
    typealias V = TokenizerTestVocabularies

    /// Byte-level vocabulary entries whose second-to-last token is `raw`, spelled as given
    /// (not mapped to the byte alphabet).
    static func entries(withRawToken raw: String) -> [(String, GGUFValue)] {
        var tokens = V.byteLevelTokens(extraTokens: ["placeholder"])
        tokens[tokens.count - 2] = raw
        return V.byteLevelEntries(pre: "gpt-2", extraTokens: ["placeholder"]).map {
            $0.0 == "tokenizer.ggml.tokens" ? ($0.0, V.strings(tokens)) : $0
        }
    }

    @Test func shortUnknownCharactersKeepLlamaCppsMarker() throws {
        let tokenizer = try makeTokenizer(from: V.metadata(Self.entries(withRawToken: "a€")))
        let id = Int32(tokenizer.vocabularySize - 2)
        // "a" is in the byte alphabet; "€" is not and gets the marker with the whole text.
        #expect(String(decoding: tokenizer.pieceBytes(of: id), as: UTF8.self) == "a[UNK_BYTE_0xe282aca€]")
    }

    @Test func longTokenOfUnknownCharactersLoadsInLinearMemory() throws {
        let count = 20_000
        let raw = String(repeating: "€", count: count)  // 60 KB; its llama.cpp piece would be 1.2 GB
        let started = Date()
        let tokenizer = try makeTokenizer(from: V.metadata(Self.entries(withRawToken: raw)))
        let id = Int32(tokenizer.vocabularySize - 2)
        let piece = tokenizer.pieceBytes(of: id)
        #expect(piece.count <= Vocabulary.unknownMarkerBudget(for: raw.utf8.count) + raw.utf8.count)
        #expect(piece.count >= raw.utf8.count)
        // The first characters keep the marker; the rest are their own bytes.
        #expect(piece.starts(with: Array("[UNK_BYTE_0xe282ac".utf8)))
        #expect(piece.suffix(30).elementsEqual(Array(raw.utf8).suffix(30)))
        // The rest of the vocabulary still works.
        let ids = tokenizer.encode("hello there", addSpecialTokens: false, parseSpecial: false)
        #expect(tokenizer.decode(ids) == "hello there")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func stringTableOffsetsAreSixtyFourBit() {
        // Offsets past 2^16 and 2^31 would wrap in 16- and 32-bit fields; a 3 MB table checks the arithmetic.
        var table = ByteStringTable(capacity: 4)
        let big = [UInt8](repeating: 0x41, count: 3 << 20)
        table.append(big)
        table.append(Array("tail".utf8))
        #expect(table.length(at: 0) == big.count)
        #expect(Array(table.bytes(at: 1)) == Array("tail".utf8))
        #expect(table.index(of: Array("tail".utf8)) == 1)
        #expect(table.index(of: big) == 0)
    }

    @Test func tokenizeInspectAndGenerateHandleTheLongToken() throws {
        let folder = try HostileInput.folder("long-token")
        defer { try? FileManager.default.removeItem(at: folder) }
        let entries = Self.entries(withRawToken: String(repeating: "€", count: 20_000))
        let vocabularySize: Int
        if case .array(let tokens)? = entries.first(where: { $0.0 == "tokenizer.ggml.tokens" })?.1 {
            vocabularySize = tokens.count
        } else {
            Issue.record("no tokens"); return
        }
        let model = try HostileInput.rewriting(
            TestModels.tiny(vocabulary: vocabularySize),
            replacing: entries + [("tokenizer.ggml.scores", V.floats([Float](repeating: 0, count: vocabularySize)))])
        let path = HostileInput.write(model, "long-token.gguf", in: folder)
        let started = Date()
        let tokenize = try runSwiftlet(["tokenize", "--model", path, "--json", "hello"])
        #expect(tokenize.status == 0, "\(tokenize.stderr)")
        #expect(tokenize.stdout.hasPrefix("["))
        let inspect = try runSwiftlet(["inspect", "--model", path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let generate = try runSwiftlet(["generate", "--model", path, "--prompt", "hello", "--max-tokens", "4",
                                        "--ignore-eos", "--temperature", "0", "--kv-cache-mb", "16"])
        #expect(generate.status == 0, "\(generate.stderr)")
        #expect(Date().timeIntervalSince(started) < 60)
    }
}
