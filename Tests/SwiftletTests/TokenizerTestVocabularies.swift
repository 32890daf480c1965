@testable import Swiftlet

/// Small vocabularies the tokenizer tests build themselves, written through `GGUFWriter` and
/// read back through `GGUFFile` and `makeTokenizer(from:)`, as a model file would be.
enum TokenizerTestVocabularies {
    /// GGUF metadata from key/values, through the writer and the reader.
    static func metadata(_ entries: [(String, GGUFValue)]) throws -> GGUFMetadata {
        var writer = GGUFWriter()
        for (key, value) in entries { writer.add(key, value) }
        return try GGUFFile(file: MappedFile(bytes: writer.serialized())).metadata
    }

    static func strings(_ values: [String]) -> GGUFValue { .array(values.map { .string($0) }) }
    static func floats(_ values: [Float]) -> GGUFValue { .array(values.map { .float32($0) }) }
    static func int32s(_ values: [Int]) -> GGUFValue { .array(values.map { .int32(Int32($0)) }) }

    // MARK: - SentencePiece

    /// Id of the first piece after `<unk>`, `<s>`, `</s>` and the 256 byte tokens.
    static let firstPiece: Int32 = 259

    /// The id of byte token `<0xXX>`.
    static func byteToken(_ byte: UInt8) -> Int32 { 3 + Int32(byte) }

    /// Pieces of the small SentencePiece vocabulary, with scores: ids 259, 260, ...
    static let sentencePiecePieces: [(String, Float)] = [
        ("▁", -1), ("a", -2), ("b", -2), ("c", -2), ("▁a", -1.5), ("ab", -0.5), ("▁ab", -0.2),
        ("bc", -0.1), ("aa", -1), ("<", -3), ("s", -3), (">", -3), ("<s", -2), ("▁▁", -0.3), ("x", -3),
        ("▁x", -2.5), ("<tool>", 0),
    ]

    static func pieceID(_ text: String) -> Int32 {
        firstPiece + Int32(sentencePiecePieces.firstIndex { $0.0 == text }!)
    }

    /// `tokenizer.ggml.*` entries of a SentencePiece vocabulary: `<unk>`, `<s>`, `</s>`, byte
    /// tokens (unless `byteTokens` is false), then `pieces`. `<tool>` is user-defined.
    static func sentencePieceEntries(pieces: [(String, Float)] = sentencePiecePieces, byteTokens: Bool = true,
                                     extra: [(String, GGUFValue)] = []) -> [(String, GGUFValue)] {
        var tokens = ["<unk>", "<s>", "</s>"]
        var scores: [Float] = [0, 0, 0]
        var types = [2, 3, 3]
        for byte in 0..<256 {
            if byteTokens {
                tokens.append("<0x" + String(byte, radix: 16, uppercase: true).leftPadded(2) + ">")
            } else {
                tokens.append("[unused\(byte)]")
            }
            scores.append(0)
            types.append(byteTokens ? 6 : 5)
        }
        for (text, score) in pieces {
            tokens.append(text)
            scores.append(score)
            types.append(text == "<tool>" ? 4 : 1)
        }
        return [
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", strings(tokens)),
            ("tokenizer.ggml.scores", floats(scores)),
            ("tokenizer.ggml.token_type", int32s(types)),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.ggml.unknown_token_id", .uint32(0)),
        ] + extra
    }

    static func sentencePiece(byteTokens: Bool = true, extra: [(String, GGUFValue)] = []) throws -> any Tokenizer {
        try makeTokenizer(from: metadata(sentencePieceEntries(byteTokens: byteTokens, extra: extra)))
    }

    // MARK: - Byte-level BPE

    /// `text` in GPT-2's byte-level alphabet (`" "` → `"Ġ"`).
    static func byteLevel(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in text.utf8 { scalars.append(Unicode.Scalar(ByteLevelEncoding.scalarForByte[Int(byte)])!) }
        return String(scalars)
    }

    /// Merges of the small byte-level vocabulary (in plain text; spaces inside halves are
    /// written `_` and become `Ġ`), best first.
    static let byteLevelMerges: [(String, String)] = [
        ("_", "t"), ("h", "e"), ("_t", "he"), ("i", "n"), ("_", "a"), ("x", "y"), ("xy", "z"), ("1", "2"),
    ]

    /// Ids: the 256 byte characters in byte order (id = byte), then the merge results that
    /// are tokens (`xy` is not), then `extraTokens`, then `<|endoftext|>` (control).
    static func byteLevelTokens(extraTokens: [String]) -> [String] {
        var tokens = (0..<256).map { byteLevel(String(decoding: [UInt8($0)], as: UTF8.self)) }
        // Bytes 0x80...0xFF are not valid UTF-8 alone: spell them directly.
        for byte in 0x80..<256 {
            tokens[byte] = String(Unicode.Scalar(ByteLevelEncoding.scalarForByte[byte])!)
        }
        for (left, right) in byteLevelMerges where left + right != "xy" {
            tokens.append(byteLevel((left + right).replacingUnderscores()))
        }
        tokens += extraTokens.map(byteLevel)
        tokens.append("<|endoftext|>")
        return tokens
    }

    static func byteLevelEntries(pre: String?, extraTokens: [String] = ["zz", "hello"],
                                 extra: [(String, GGUFValue)] = []) -> [(String, GGUFValue)] {
        let tokens = byteLevelTokens(extraTokens: extraTokens)
        var types = [Int](repeating: 1, count: tokens.count)
        types[types.count - 1] = 3
        let merges = byteLevelMerges.map {
            byteLevel($0.0.replacingUnderscores()) + " " + byteLevel($0.1.replacingUnderscores())
        }
        var entries: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.tokens", strings(tokens)),
            ("tokenizer.ggml.token_type", int32s(types)),
            ("tokenizer.ggml.merges", strings(merges)),
            ("tokenizer.ggml.bos_token_id", .uint32(UInt32(tokens.count - 1))),
            ("tokenizer.ggml.eos_token_id", .uint32(UInt32(tokens.count - 1))),
        ]
        if let pre { entries.append(("tokenizer.ggml.pre", .string(pre))) }
        return entries + extra
    }

    static func byteLevelBPE(pre: String? = "gpt-2", extraTokens: [String] = ["zz", "hello"]) throws -> any Tokenizer {
        try makeTokenizer(from: metadata(byteLevelEntries(pre: pre, extraTokens: extraTokens)))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
