/// How a vocabulary treats one token (llama.cpp's token attributes, read from
/// `tokenizer.ggml.token_type`).
public struct TokenAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// A token of no known type: decodes to nothing.
    public static let undefined = TokenAttributes(rawValue: 1 << 0)
    /// The unknown token (`<unk>`): rendered only when special tokens are.
    public static let unknown = TokenAttributes(rawValue: 1 << 1)
    /// A reserved, unused slot: decodes to nothing.
    public static let unused = TokenAttributes(rawValue: 1 << 2)
    /// An ordinary piece of text.
    public static let normal = TokenAttributes(rawValue: 1 << 3)
    /// A control token (`<s>`, `<|eot_id|>`): never made from plain text, rendered only when
    /// special tokens are.
    public static let control = TokenAttributes(rawValue: 1 << 4)
    /// A user-defined token: matched in text before tokenizing, always rendered.
    public static let userDefined = TokenAttributes(rawValue: 1 << 5)
    /// A byte-fallback token (`<0x0A>`).
    public static let byte = TokenAttributes(rawValue: 1 << 6)

    /// Tokens whose text is matched in the input before tokenizing (with `parseSpecial`,
    /// or always for user-defined ones).
    static let special: TokenAttributes = [.control, .userDefined, .unknown]
    /// Tokens that decode to nothing unless special tokens are rendered.
    static let hiddenUnlessRendered: TokenAttributes = [.control, .unknown]

    /// The attributes of GGUF token type `type` (`llama_token_type`: 1 normal, 2 unknown,
    /// 3 control, 4 user defined, 5 unused, 6 byte; anything else undefined).
    public init(tokenType type: Int) {
        switch type {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = .undefined
        }
    }
}
