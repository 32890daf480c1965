/// Which algorithm turns text into tokens (`tokenizer.ggml.model`).
public enum TokenizerModel: String, Sendable {
    /// SentencePiece-style BPE over characters with byte fallback (`"llama"`).
    case sentencePiece = "llama"
    /// GPT-2 byte-level BPE with ranked merges (`"gpt2"`).
    case byteLevelBPE = "gpt2"
}

/// The ids of a vocabulary's special tokens; nil where it has none.
public struct SpecialTokenIDs: Sendable, Equatable {
    /// Beginning of sequence (`<s>`, `<|begin_of_text|>`).
    public var bos: Int32?
    /// End of sequence (`</s>`, `<|end_of_text|>`).
    public var eos: Int32?
    /// The unknown token (`<unk>`).
    public var unknown: Int32?
    /// Padding.
    public var padding: Int32?
    /// Separator (BERT-style vocabularies).
    public var separator: Int32?
    /// End of turn (`<|eot_id|>`, `<|im_end|>`); found by its text when the metadata is silent.
    public var endOfTurn: Int32?
    /// End of message (`<|eom_id|>`); found by its text when the metadata is silent.
    public var endOfMessage: Int32?
    /// Further tokens that end generation (fill-in-the-middle pad/repo/separator tokens).
    public var otherEndOfGeneration: [Int32]

    public init(bos: Int32? = nil, eos: Int32? = nil, unknown: Int32? = nil, padding: Int32? = nil,
                separator: Int32? = nil, endOfTurn: Int32? = nil, endOfMessage: Int32? = nil,
                otherEndOfGeneration: [Int32] = []) {
        self.bos = bos
        self.eos = eos
        self.unknown = unknown
        self.padding = padding
        self.separator = separator
        self.endOfTurn = endOfTurn
        self.endOfMessage = endOfMessage
        self.otherEndOfGeneration = otherEndOfGeneration
    }

    /// Every id set, with what it is called (for range checks and messages).
    var named: [(String, Int32)] {
        var result: [(String, Int32)] = []
        func add(_ name: String, _ id: Int32?) { if let id { result.append((name, id)) } }
        add("bos", bos); add("eos", eos); add("unknown", unknown); add("padding", padding)
        add("separator", separator); add("end-of-turn", endOfTurn); add("end-of-message", endOfMessage)
        for id in otherEndOfGeneration { result.append(("end-of-generation", id)) }
        return result
    }
}

/// A tokenizer's token table: texts, scores, attributes, special tokens and the flags that
/// steer encoding and decoding. Both tokenizer kinds share it, and all decoding lives here.
public struct Vocabulary: Sendable {
    /// Which algorithm encodes with this vocabulary (and how its texts decode).
    public let model: TokenizerModel
    /// Token texts as the vocabulary spells them (`▁` for spaces, byte-level characters).
    let texts: ByteStringTable
    /// Per-token scores (SentencePiece merge priority); zeros when the file has none.
    public let scores: [Float]
    /// Per-token attributes.
    public let attributes: [TokenAttributes]
    /// The special tokens' ids.
    public let specialTokens: SpecialTokenIDs
    /// `encode(_:)` prepends BOS (`tokenizer.ggml.add_bos_token`).
    public let addsBOS: Bool
    /// `encode(_:)` appends EOS (`tokenizer.ggml.add_eos_token`).
    public let addsEOS: Bool
    /// SentencePiece dummy prefix: a space is put before text that starts the input or
    /// follows a special token, and decoding drops one leading space of the first piece
    /// (`tokenizer.ggml.add_space_prefix`).
    public let addsSpacePrefix: Bool
    /// The vocabulary asks decoders to clean up spaces before punctuation
    /// (`DecodingOptions.cleansUpSpaces`).
    public let cleansUpSpaces: Bool
    /// Decoded bytes of every token, special tokens as their text.
    let pieces: ByteStringTable
    /// Tokens that end generation.
    let endOfGenerationIDs: Set<Int32>
    /// Finds the texts of control, user-defined and unknown tokens in an input.
    let specialTokenMatcher: SpecialTokenMatcher

    /// Number of tokens.
    public var count: Int { attributes.count }

    /// Token texts that end generation wherever they appear (llama.cpp's list).
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>",
    ]
    /// Texts that name the end-of-turn token when the metadata does not.
    static let endOfTurnTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
        "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]

    /// Builds a vocabulary, checking what a malformed file could get wrong.
    /// - Parameters:
    ///   - tokens: token texts; an empty one becomes `[EMPTY_<id>]` as in llama.cpp.
    ///   - scores: one per token, or nil for all zeros.
    ///   - tokenTypes: GGUF token types, one per token, or nil for all normal.
    /// - Throws: `ModelFileError.malformed` on an empty vocabulary, mismatched lengths,
    ///   special ids out of range, or BOS/EOS required but missing.
    public init(model: TokenizerModel, tokens: [String], scores: [Float]? = nil, tokenTypes: [Int]? = nil,
                specialTokens: SpecialTokenIDs, addsBOS: Bool, addsEOS: Bool, addsSpacePrefix: Bool,
                cleansUpSpaces: Bool) throws {
        guard !tokens.isEmpty else { throw ModelFileError.malformed("the tokenizer has no tokens") }
        guard tokens.count < Int(Int32.max) else {
            throw ModelFileError.malformed("the tokenizer has \(tokens.count) tokens, more than 32-bit ids can number")
        }
        if let scores, scores.count != tokens.count {
            throw ModelFileError.malformed("tokenizer has \(tokens.count) tokens but \(scores.count) scores")
        }
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw ModelFileError.malformed("tokenizer has \(tokens.count) tokens but \(tokenTypes.count) token types")
        }
        for (name, id) in specialTokens.named where id < 0 || Int(id) >= tokens.count {
            throw ModelFileError.malformed("\(name) token id \(id) is outside the vocabulary of \(tokens.count) tokens")
        }
        if addsBOS && specialTokens.bos == nil {
            throw ModelFileError.malformed("the tokenizer adds a BOS token but has none")
        }
        if addsEOS && specialTokens.eos == nil {
            throw ModelFileError.malformed("the tokenizer adds an EOS token but has none")
        }

        var texts = ByteStringTable(capacity: tokens.count)
        var attributes = tokenTypes.map { $0.map(TokenAttributes.init(tokenType:)) }
            ?? [TokenAttributes](repeating: .normal, count: tokens.count)
        var special = specialTokens
        var endOfGeneration = Set<Int32>()
        for (index, token) in tokens.enumerated() {
            let text = token.isEmpty ? "[EMPTY_\(index)]" : token
            texts.append(text.utf8)
            if Self.endOfGenerationTexts.contains(text) {
                // A token that ends generation is a control token whatever the file says.
                attributes[index].insert(.control)
                endOfGeneration.insert(Int32(index))
                if special.endOfTurn == nil && Self.endOfTurnTexts.contains(text) {
                    special.endOfTurn = Int32(index)
                }
                if special.endOfMessage == nil && text == "<|eom_id|>" {
                    special.endOfMessage = Int32(index)
                }
            }
        }
        for (_, id) in [("eos", special.eos), ("eot", special.endOfTurn), ("eom", special.endOfMessage)] {
            if let id { endOfGeneration.insert(id) }
        }
        endOfGeneration.formUnion(special.otherEndOfGeneration)

        self.model = model
        self.texts = texts
        self.scores = scores ?? [Float](repeating: 0, count: tokens.count)
        self.attributes = attributes
        self.specialTokens = special
        self.addsBOS = addsBOS
        self.addsEOS = addsEOS
        self.addsSpacePrefix = addsSpacePrefix
        self.cleansUpSpaces = cleansUpSpaces
        self.endOfGenerationIDs = endOfGeneration
        self.specialTokenMatcher = SpecialTokenMatcher(tokens: attributes.indices
            .filter { !attributes[$0].isDisjoint(with: TokenAttributes.special) }
            .lazy
            .map { (id: Int32($0), text: texts.bytes(at: $0),
                    isPlain: attributes[$0].isDisjoint(with: TokenAttributes.hiddenUnlessRendered)) })
        self.pieces = Self.makePieces(model: model, texts: texts, attributes: attributes)
    }

    /// The text of token `id` as the vocabulary spells it, or nil outside the vocabulary.
    public func text(of id: Int32) -> String? {
        guard id >= 0, Int(id) < count else { return nil }
        return String(decoding: texts.bytes(at: Int(id)), as: UTF8.self)
    }

    /// The id of the token spelled `text`, or nil.
    public func id(of text: String) -> Int32? {
        texts.index(of: text.utf8).map { Int32($0) }
    }

    /// Whether generation should stop at `id`.
    public func isEndOfGeneration(_ id: Int32) -> Bool {
        endOfGenerationIDs.contains(id)
    }

    /// The token spelled by `span`, any kind.
    @inline(__always)
    func tokenID(_ span: UnsafeRawBufferPointer) -> Int32? {
        texts.index(of: span).map { Int32($0) }
    }

    /// The token spelled by `span` that plain text may produce: not a control or unknown
    /// token.
    @inline(__always)
    func plainTokenID(_ span: UnsafeRawBufferPointer) -> Int32? {
        guard let index = texts.index(of: span),
              attributes[index].isDisjoint(with: TokenAttributes.hiddenUnlessRendered) else { return nil }
        return Int32(index)
    }

    /// The token spelled by `bytes`, any kind.
    func tokenID(_ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { tokenID($0) }
    }
}
