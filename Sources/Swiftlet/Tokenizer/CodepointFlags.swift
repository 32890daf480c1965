/// The Unicode classes the BPE pre-tokenizers ask about, one bit each, for one code point:
/// `\p{L}`, `\p{N}`, `\p{P}`, `\p{S}`, `\p{M}`, `\p{Z}`, `\p{C}`, unassigned, and `\s`.
///
/// Every valid code point has at least one bit set (an unassigned one is `.undefined`); the
/// empty set stands for "past the end of the text", which is how the scanners in
/// `PreTokenizer` see the end of a fragment.
struct CodepointFlags: OptionSet, Sendable {
    let rawValue: UInt16

    static let undefined = CodepointFlags(rawValue: 1 << 0)
    static let number = CodepointFlags(rawValue: 1 << 1)
    static let letter = CodepointFlags(rawValue: 1 << 2)
    static let separator = CodepointFlags(rawValue: 1 << 3)
    static let mark = CodepointFlags(rawValue: 1 << 4)
    static let punctuation = CodepointFlags(rawValue: 1 << 5)
    static let symbol = CodepointFlags(rawValue: 1 << 6)
    static let control = CodepointFlags(rawValue: 1 << 7)
    static let whitespace = CodepointFlags(rawValue: 1 << 8)

    /// The flags of `codePoint` (a Unicode scalar value).
    @inline(__always)
    static func of(_ codePoint: UInt32) -> CodepointFlags {
        if codePoint < UInt32(CodepointFlagTable.shared.count) {
            return CodepointFlags(rawValue: CodepointFlagTable.shared[Int(codePoint)])
        }
        return computed(codePoint)
    }

    /// The flags from the standard library's Unicode tables (used to build the lookup table
    /// and for code points past it).
    static func computed(_ codePoint: UInt32) -> CodepointFlags {
        guard let scalar = Unicode.Scalar(codePoint) else { return .undefined }
        var flags: CodepointFlags
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            flags = .number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags = .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            flags = .symbol
        case .nonspacingMark, .spacingMark, .enclosingMark:
            flags = .mark
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            flags = .separator
        case .control, .format, .privateUse, .surrogate:
            flags = .control
        case .unassigned:
            flags = .undefined
        @unknown default:
            flags = .undefined
        }
        if isWhitespace(codePoint) { flags.insert(.whitespace) }
        return flags
    }

    /// `\s` as the Unicode White_Space property defines it (the set llama.cpp uses).
    static func isWhitespace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Letters, numbers or whitespace: what `[^\s\p{L}\p{N}]` excludes.
    static let wordLike: CodepointFlags = [.letter, .number, .whitespace]
}

/// The flags of the first four Unicode planes (every assigned script, CJK and emoji), built
/// once per process (about 20 ms); rarer code points are classified on the fly.
enum CodepointFlagTable {
    static let shared: [UInt16] = {
        var table = [UInt16](repeating: 0, count: 0x40000)
        for c in 0..<table.count {
            table[c] = CodepointFlags.computed(UInt32(c)).rawValue
        }
        return table
    }()
}
