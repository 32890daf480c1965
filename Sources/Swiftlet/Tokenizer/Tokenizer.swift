/// Text to token ids and back, exactly as llama.cpp does it for the same vocabulary.
///
/// Conformers: `SentencePieceTokenizer` (`tokenizer.ggml.model = "llama"`),
/// `ByteLevelBPETokenizer` (`"gpt2"`), `SentencePieceBPETokenizer` (`"gemma4"`) and
/// `DeferredTokenizer` (any of those, its encoder built on first use). Make one from GGUF
/// metadata with `makeTokenizer(from:)` (or `TokenizerLoader.loadDeferred(from:)`), or from a
/// llama2.c `tokenizer.bin` with `Llama2TokenizerFile`.
/// Decoding is shared: see `Vocabulary` and `StreamingDetokenizer`.
public protocol Tokenizer: Sendable {
    /// The token table, its special tokens and its flags.
    var vocabulary: Vocabulary { get }

    /// Token ids of `text`.
    /// - Parameters:
    ///   - addSpecialTokens: prepend BOS when the vocabulary asks for it
    ///     (`tokenizer.ggml.add_bos_token`) and append EOS when it asks for that.
    ///   - parseSpecial: treat the text of control tokens (`<s>`, `<|begin_of_text|>`) as
    ///     those tokens; otherwise they are plain text. User-defined tokens are always
    ///     matched, as in llama.cpp.
    func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool) -> [Int32]

    /// The text of `ids`; see `DecodingOptions` for what can be chosen.
    func decode(_ ids: [Int32], options: DecodingOptions) -> String

    /// Whether generation should stop at `id`: EOS, and end-of-turn / end-of-message tokens
    /// (`<|eot_id|>`, `<|eom_id|>`, `<|im_end|>`, ...).
    func isEndOfGeneration(_ id: Int32) -> Bool
}

/// Choices for `Tokenizer.decode(_:options:)`. The defaults give the text a stream of
/// generated pieces shows (llama.cpp's `token_to_piece` output concatenated) with the
/// SentencePiece leading-space rule: `decode(encode(s, addSpecialTokens: false, ...)) == s`.
public struct DecodingOptions: Sendable, Equatable {
    /// Write control and unknown tokens (`<s>`, `<|eot_id|>`) as their text; otherwise they
    /// add nothing (llama.cpp's `unparse_special`).
    public var rendersSpecialTokens: Bool
    /// Drop a leading BOS and a trailing EOS where the vocabulary adds them (llama.cpp's
    /// `remove_special`).
    public var removesAddedSpecialTokens: Bool
    /// Apply the vocabulary's clean-up of spaces before punctuation and contractions when it
    /// asks for one (`clean_up_tokenization_spaces`, on for most byte-level BPE vocabularies).
    /// llama.cpp's `llama_detokenize` does; its streamed pieces do not.
    public var cleansUpSpaces: Bool
    /// The ids begin the text, so the SentencePiece rule drops one leading space of the first
    /// piece. Set false to decode a continuation (generated tokens after a prompt): its
    /// pieces keep their spaces, as llama.cpp streams them.
    public var startsText: Bool

    public init(rendersSpecialTokens: Bool = false, removesAddedSpecialTokens: Bool = false, cleansUpSpaces: Bool = false,
                startsText: Bool = true) {
        self.rendersSpecialTokens = rendersSpecialTokens
        self.removesAddedSpecialTokens = removesAddedSpecialTokens
        self.cleansUpSpaces = cleansUpSpaces
        self.startsText = startsText
    }

    /// What llama.cpp's `llama_detokenize(..., remove_special: false, unparse_special: false)`
    /// (and `common_detokenize`) returns.
    public static let llamaDetokenize = DecodingOptions(cleansUpSpaces: true)
}

extension Tokenizer {
    /// Token ids of `text` with BOS prepended when the vocabulary asks for it; special-token
    /// text stays plain text.
    public func encode(_ text: String) -> [Int32] {
        encode(text, addSpecialTokens: true, parseSpecial: false)
    }

    /// The text of `ids` with default `DecodingOptions`.
    public func decode(_ ids: [Int32]) -> String {
        decode(ids, options: DecodingOptions())
    }

    public func decode(_ ids: [Int32], options: DecodingOptions) -> String {
        vocabulary.decode(ids, options: options)
    }

    public func isEndOfGeneration(_ id: Int32) -> Bool {
        vocabulary.isEndOfGeneration(id)
    }

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { vocabulary.count }
    /// Beginning-of-sequence token, if the vocabulary has one.
    public var bosTokenID: Int32? { vocabulary.specialTokens.bos }
    /// End-of-sequence token, if the vocabulary has one.
    public var eosTokenID: Int32? { vocabulary.specialTokens.eos }
    /// The unknown token, if the vocabulary has one.
    public var unknownTokenID: Int32? { vocabulary.specialTokens.unknown }
    /// The padding token, if the vocabulary has one.
    public var paddingTokenID: Int32? { vocabulary.specialTokens.padding }
    /// Whether `encode(_:)` prepends BOS (`tokenizer.ggml.add_bos_token`).
    public var addsBOSToken: Bool { vocabulary.addsBOS }

    /// The bytes token `id` stands for (special tokens as their text); empty for ids outside
    /// the vocabulary. A piece may be part of a UTF-8 character.
    public func pieceBytes(of id: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        vocabulary.appendPiece(of: id, rendersSpecialTokens: true, stripsLeadingSpace: false, to: &bytes)
        return bytes
    }
}
