import Synchronization

/// A tokenizer whose vocabulary is ready at once and whose encoder is built on the first
/// `encode` (or `encoder()`), once: decoding, streaming and end-of-generation checks never
/// wait for a merge table, and a vocabulary whose encoder cannot be made (an unknown
/// `tokenizer.ggml.pre`) still decodes the ids it is given. Make one with
/// `TokenizerLoader.loadDeferred(from:)`.
public final class DeferredTokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    private let build: @Sendable (Vocabulary) throws -> any Tokenizer
    private let built = Mutex<Result<any Tokenizer, any Error>?>(nil)

    /// - Parameter build: makes the encoding tokenizer around `vocabulary`; called at most
    ///   once, on first use.
    public init(vocabulary: Vocabulary, build: @escaping @Sendable (Vocabulary) throws -> any Tokenizer) {
        self.vocabulary = vocabulary
        self.build = build
    }

    /// The tokenizer that encodes, built on the first call.
    /// - Throws: why it cannot be built (the same error on every call), for example
    ///   `ModelFileError.unsupported` naming an unknown pre-tokenizer.
    public func encoder() throws -> any Tokenizer {
        try built.withLock { state in
            if let state { return try state.get() }
            let result = Result { try build(vocabulary) }
            state = result
            return try result.get()
        }
    }

    /// Whether an encoder has been built (or has failed to build) yet.
    public var isEncoderBuilt: Bool { built.withLock { $0 != nil } }

    /// The ids of `text`; none when the encoder cannot be built (call `encoder()` first to
    /// learn why).
    public func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool) -> [Int32] {
        guard let encoder = try? encoder() else { return [] }
        return encoder.encode(text, addSpecialTokens: addSpecialTokens, parseSpecial: parseSpecial)
    }
}
