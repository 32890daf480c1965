/// llama2.c's `tokenizer.bin`: a SentencePiece vocabulary exported for `run.c`.
///
/// Layout (little-endian): `int32 max_token_length`, then per token `float32 score`,
/// `int32 length`, `length` bytes. The file does not store the token count (the checkpoint
/// does), so tokens are read to the end of the file unless a count is given. The exporter
/// wrote `▁` as a space and BOS/EOS as `"\n<s>\n"`/`"\n</s>\n"`; reading undoes both. Ids are
/// SentencePiece's: UNK 0, BOS 1, EOS 2; `<0xXX>` tokens are byte fallbacks.
public enum Llama2TokenizerFile {
    /// Largest token length accepted (llama2.c allocates `max_token_length * 2 + 3` bytes).
    public static let maximumTokenLength = 1 << 16

    /// Reads the tokenizer file at `path`.
    /// - Parameter vocabularySize: the checkpoint's vocabulary size; when given, exactly that
    ///   many tokens are read and the file may not be shorter.
    /// - Throws: `ModelFileError` naming the problem (I/O, truncation, bad lengths).
    public static func load(path: String, vocabularySize: Int? = nil) throws -> SentencePieceTokenizer {
        let file = try MappedFile(path: path)
        return try tokenizer(from: file.bytes, vocabularySize: vocabularySize)
    }

    /// Reads a tokenizer from the bytes of a `tokenizer.bin`.
    public static func tokenizer(from bytes: UnsafeRawBufferPointer, vocabularySize: Int? = nil) throws -> SentencePieceTokenizer {
        var reader = ByteReader(bytes)
        reader.section = "tokenizer.bin header"
        let maxLength = Int(try reader.read(Int32.self))
        guard maxLength >= 1, maxLength <= maximumTokenLength else {
            throw ModelFileError.malformed("tokenizer.bin max_token_length \(maxLength) is not between 1 and \(maximumTokenLength)")
        }
        if let vocabularySize {
            guard vocabularySize >= 3, vocabularySize <= reader.remaining / 8 else {
                throw ModelFileError.malformed("tokenizer.bin cannot hold \(vocabularySize) tokens in \(reader.remaining) bytes")
            }
        }
        var tokens: [String] = []
        var scores: [Float] = []
        while vocabularySize.map({ tokens.count < $0 }) ?? (reader.remaining > 0) {
            reader.section = "tokenizer.bin token \(tokens.count)"
            let score = try reader.readFloat()
            let length = Int(try reader.read(Int32.self))
            guard length >= 0, length <= maxLength else {
                throw ModelFileError.malformed("tokenizer.bin token \(tokens.count) has length \(length), outside 0...\(maxLength)")
            }
            guard !score.isNaN else { throw ModelFileError.malformed("tokenizer.bin token \(tokens.count) has a NaN score") }
            let text = try reader.readBytes(length)
            tokens.append(String(decoding: text, as: UTF8.self))
            scores.append(score)
        }
        guard tokens.count >= 3 else {
            throw ModelFileError.malformed("tokenizer.bin has \(tokens.count) tokens; UNK, BOS and EOS (ids 0, 1, 2) are needed")
        }

        var types = [Int](repeating: 1, count: tokens.count)
        for (id, token) in tokens.enumerated() {
            if id == 0 {
                types[id] = 2
            } else if id == 1 || id == 2 {
                types[id] = 3
                tokens[id] = token.trimmingNewlines()
            } else if isByteToken(token) {
                types[id] = 6
            } else {
                tokens[id] = token.replacingSpaces()
            }
        }
        let vocabulary = try Vocabulary(
            model: .sentencePiece, tokens: tokens, scores: scores, tokenTypes: types,
            specialTokens: SpecialTokenIDs(bos: 1, eos: 2, unknown: 0),
            addsBOS: true, addsEOS: false, addsSpacePrefix: true, cleansUpSpaces: false)
        return try SentencePieceTokenizer(vocabulary: vocabulary)
    }

    /// The bytes of a `tokenizer.bin` holding `tokens` (texts as SentencePiece spells them,
    /// with `▁`) and their scores, as llama2.c's exporter writes it.
    public static func serialized(tokens: [String], scores: [Float]) -> [UInt8] {
        precondition(tokens.count == scores.count)
        let texts = tokens.enumerated().map { id, token -> [UInt8] in
            switch id {
            case 1: return Array("\n<s>\n".utf8)
            case 2: return Array("\n</s>\n".utf8)
            default: return Array(token.replacingOccurrences("\u{2581}", with: " ").utf8)
            }
        }
        var out: [UInt8] = []
        func put(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt32(texts.map(\.count).max() ?? 1))
        for (text, score) in zip(texts, scores) {
            put(score.bitPattern)
            put(UInt32(text.count))
            out.append(contentsOf: text)
        }
        return out
    }

    /// Whether `text` is `<0xXX>` with two hexadecimal digits.
    static func isByteToken(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 6 && bytes[0] == UInt8(ascii: "<") && bytes[1] == UInt8(ascii: "0")
            && bytes[2] == UInt8(ascii: "x") && bytes[5] == UInt8(ascii: ">")
            && Vocabulary.hexValue(bytes[3]) != nil && Vocabulary.hexValue(bytes[4]) != nil
    }
}

private extension String {
    /// The text with spaces spelled `▁`, as SentencePiece stores pieces.
    func replacingSpaces() -> String {
        replacingOccurrences(" ", with: "\u{2581}")
    }

    /// Replaces every scalar `target` (scalars, not characters: a `▁` followed by a combining
    /// mark is one character but still a `▁`).
    func replacingOccurrences(_ target: Unicode.Scalar, with replacement: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar == target {
                result.append(contentsOf: replacement.unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    func trimmingNewlines() -> String {
        String(self.drop(while: { $0 == "\n" }).reversed().drop(while: { $0 == "\n" }).reversed())
    }
}
