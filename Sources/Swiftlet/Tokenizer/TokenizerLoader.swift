/// Makes the tokenizer a GGUF file describes in its `tokenizer.ggml.*` metadata.
/// - Throws: `ModelFileError` naming the problem: missing or mistyped keys, arrays of
///   different lengths, special token ids out of range, an unknown model or pre-tokenizer.
public func makeTokenizer(from metadata: GGUFMetadata) throws -> any Tokenizer {
    try TokenizerLoader.load(from: metadata)
}

/// Reads `tokenizer.ggml.*` metadata into a `SentencePieceTokenizer` or a
/// `ByteLevelBPETokenizer`, with llama.cpp's defaults where keys are absent.
public enum TokenizerLoader {
    /// Metadata keys read (the GGUF spec's names).
    public enum Key {
        public static let model = "tokenizer.ggml.model"
        public static let pre = "tokenizer.ggml.pre"
        public static let tokens = "tokenizer.ggml.tokens"
        public static let scores = "tokenizer.ggml.scores"
        public static let tokenTypes = "tokenizer.ggml.token_type"
        public static let merges = "tokenizer.ggml.merges"
        public static let bos = "tokenizer.ggml.bos_token_id"
        public static let eos = "tokenizer.ggml.eos_token_id"
        public static let unknown = "tokenizer.ggml.unknown_token_id"
        public static let padding = "tokenizer.ggml.padding_token_id"
        /// (sic: the GGUF key is spelled this way.)
        public static let separator = "tokenizer.ggml.seperator_token_id"
        public static let endOfTurn = "tokenizer.ggml.eot_token_id"
        public static let endOfMessage = "tokenizer.ggml.eom_token_id"
        public static let fimPad = "tokenizer.ggml.fim_pad_token_id"
        public static let fimRepository = "tokenizer.ggml.fim_rep_token_id"
        public static let fimSeparator = "tokenizer.ggml.fim_sep_token_id"
        public static let addBOS = "tokenizer.ggml.add_bos_token"
        public static let addEOS = "tokenizer.ggml.add_eos_token"
        public static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
    }

    /// The tokenizer `metadata` describes, built now.
    /// - Throws: `ModelFileError` for a malformed vocabulary, an unknown tokenizer model or an
    ///   unknown pre-tokenizer.
    public static func load(from metadata: GGUFMetadata) throws -> any Tokenizer {
        let (vocabulary, encoder) = try vocabulary(from: metadata)
        return try encoder(vocabulary)
    }

    /// The tokenizer `metadata` describes, with its vocabulary read now (decoding and
    /// end-of-generation checks work at once) and its encoder (merge table, pre-tokenizer)
    /// built on the first `encode`. A vocabulary whose encoder cannot be made, such as one
    /// with an unknown `tokenizer.ggml.pre`, still decodes; encoding it throws from
    /// `DeferredTokenizer.encoder()`. What engines use, so that a run given token ids never
    /// needs an encoder.
    /// - Throws: `ModelFileError` when the vocabulary itself cannot be read.
    public static func loadDeferred(from metadata: GGUFMetadata) throws -> DeferredTokenizer {
        let (vocabulary, encoder) = try vocabulary(from: metadata)
        return DeferredTokenizer(vocabulary: vocabulary, build: encoder)
    }

    /// What builds a tokenizer around a vocabulary (it may throw: an unknown pre-tokenizer).
    typealias EncoderBuilder = @Sendable (Vocabulary) throws -> any Tokenizer

    /// The vocabulary `metadata` describes and how to build its tokenizer; the builder reads
    /// the merges and checks the pre-tokenizer only when called.
    static func vocabulary(from metadata: GGUFMetadata) throws -> (Vocabulary, EncoderBuilder) {
        guard let modelName = try metadata.string(Key.model) else {
            throw ModelFileError.malformed("no tokenizer: metadata key '\(Key.model)' is missing")
        }
        let model: TokenizerModel
        switch modelName {
        case "llama": model = .sentencePiece
        case "gpt2": model = .byteLevelBPE
        case "gemma4": model = .sentencePiece  // BPE merges over SentencePiece-spelled tokens
        default:
            throw ModelFileError.unsupported("tokenizer model '\(modelName)' (supported: 'llama', 'gpt2', 'gemma4')")
        }
        guard metadata[Key.tokens] != nil else {
            throw ModelFileError.malformed("metadata key '\(Key.tokens)' is missing")
        }
        let tokens = try stringArray(metadata, Key.tokens)
        let scores = try metadata[Key.scores] == nil ? nil : numberArray(metadata, Key.scores).map { Float($0) }
        let tokenTypes = try metadata[Key.tokenTypes] == nil ? nil : integerArray(metadata, Key.tokenTypes)

        if modelName == "llama" {
            // llama.cpp's defaults for "llama": BOS 1, EOS 2, UNK 0 (when in range), BOS added.
            func fallback(_ id: Int32) -> Int32? { Int(id) < tokens.count ? id : nil }
            let special = try specialTokens(metadata, bos: fallback(1), eos: fallback(2), unknown: fallback(0))
            let vocabulary = try Vocabulary(
                model: .sentencePiece, tokens: tokens, scores: scores, tokenTypes: tokenTypes, specialTokens: special,
                addsBOS: try metadata.bool(Key.addBOS) ?? true,
                addsEOS: try metadata.bool(Key.addEOS) ?? false,
                addsSpacePrefix: try metadata.bool(Key.addSpacePrefix) ?? true,
                cleansUpSpaces: false)
            return (vocabulary, { try SentencePieceTokenizer(vocabulary: $0) })
        }

        // BPE: the pre-tokenizer's flags shape the vocabulary; an unknown name leaves
        // llama.cpp's BPE defaults and makes the builder fail.
        let preName = modelName == "gemma4" ? "gemma4" : (try metadata.string(Key.pre) ?? "default")
        let configuration = PreTokenizer.configuration(named: preName)
        let defaults = configuration ?? PreTokenizerConfiguration(preTokenizer: .standard)
        let special = try specialTokens(metadata, bos: nil, eos: nil, unknown: nil)
        var addsBOS = try metadata.bool(Key.addBOS) ?? defaults.addsBOS
        if defaults.forcesBOS { addsBOS = true }
        let vocabulary = try Vocabulary(
            model: defaults.spellsSpacesAsMarker ? .sentencePiece : model, tokens: tokens, scores: scores,
            tokenTypes: tokenTypes, specialTokens: special,
            addsBOS: addsBOS,
            addsEOS: try metadata.bool(Key.addEOS) ?? false,
            addsSpacePrefix: false,
            cleansUpSpaces: defaults.cleansUpSpaces)
        let builder: EncoderBuilder = { vocabulary in
            guard let configuration else {
                throw ModelFileError.unsupported("pre-tokenizer '\(preName)' (\(Key.pre)); supported: the names llama.cpp knows for BPE vocabularies (see PreTokenizer)")
            }
            // Kimi K2 files may have no merges (llama.cpp accepts that for it alone).
            guard metadata[Key.merges] != nil || preName == "kimi-k2" else {
                throw ModelFileError.malformed("BPE tokenizer without merges: metadata key '\(Key.merges)' is missing")
            }
            let merges = metadata[Key.merges] == nil ? [] : try stringArray(metadata, Key.merges)
            if configuration.spellsSpacesAsMarker {
                return try SentencePieceBPETokenizer(vocabulary: vocabulary, merges: merges, preTokenizer: configuration.preTokenizer)
            }
            return try ByteLevelBPETokenizer(vocabulary: vocabulary, merges: merges,
                                             preTokenizer: configuration.preTokenizer,
                                             ignoresMerges: configuration.ignoresMerges)
        }
        return (vocabulary, builder)
    }

    // MARK: - Typed reads

    private static func specialTokens(_ metadata: GGUFMetadata, bos: Int32?, eos: Int32?, unknown: Int32?) throws -> SpecialTokenIDs {
        func id(_ key: String) throws -> Int32? {
            guard let value = try metadata.int(key) else { return nil }
            guard let id = Int32(exactly: value) else {
                throw ModelFileError.malformed("metadata key '\(key)' = \(value) is not a token id")
            }
            return id
        }
        return SpecialTokenIDs(
            bos: try id(Key.bos) ?? bos,
            eos: try id(Key.eos) ?? eos,
            unknown: try id(Key.unknown) ?? unknown,
            padding: try id(Key.padding),
            separator: try id(Key.separator),
            endOfTurn: try id(Key.endOfTurn),
            endOfMessage: try id(Key.endOfMessage),
            otherEndOfGeneration: try [Key.fimPad, Key.fimRepository, Key.fimSeparator].compactMap(id))
    }

    private static func elements(_ metadata: GGUFMetadata, _ key: String, of kind: String) throws -> GGUFArray {
        guard let value = metadata[key] else { throw ModelFileError.malformed("metadata key '\(key)' is missing") }
        guard case .array(let elements) = value else {
            throw ModelFileError.malformed("metadata key '\(key)' has the wrong type: expected an array of \(kind)")
        }
        return elements
    }

    private static func stringArray(_ metadata: GGUFMetadata, _ key: String) throws -> [String] {
        guard let strings = try elements(metadata, key, of: "strings").stringElements else {
            throw ModelFileError.malformed("metadata key '\(key)' has the wrong type: expected an array of strings")
        }
        return strings
    }

    private static func numberArray(_ metadata: GGUFMetadata, _ key: String) throws -> [Double] {
        guard let numbers = try elements(metadata, key, of: "numbers").doubleElements else {
            throw ModelFileError.malformed("metadata key '\(key)' has the wrong type: expected an array of numbers")
        }
        return numbers
    }

    private static func integerArray(_ metadata: GGUFMetadata, _ key: String) throws -> [Int] {
        guard let integers = try elements(metadata, key, of: "integers").intElements else {
            throw ModelFileError.malformed("metadata key '\(key)' has the wrong type: expected an array of integers")
        }
        return integers
    }
}
