/// Turns token ids into text one id at a time, for streaming generated output: each call
/// returns only complete UTF-8 characters, holding back the first bytes of a character whose
/// remaining bytes are still to come (byte-fallback tokens, byte-level BPE pieces).
///
/// Fed every id of a sequence from its start, the returned chunks and `finish()` add up to
/// exactly `tokenizer.decode(ids)` with the same options, including the SentencePiece rule
/// that drops one leading space of the first piece.
public struct StreamingDetokenizer: Sendable {
    /// The tokenizer whose pieces are streamed.
    public let tokenizer: any Tokenizer
    /// Control tokens are written as their text.
    public let rendersSpecialTokens: Bool
    /// Bytes waiting for the rest of their character.
    private var pending: [UInt8] = []
    /// Whether the next piece is the first of the text and so drops a leading space.
    private var stripsNextLeadingSpace: Bool

    /// - Parameters:
    ///   - startsText: the first id fed begins the text, so the SentencePiece leading-space
    ///     rule applies to it as in `decode`. Pass false when continuing text whose start was
    ///     not fed (the pieces of a generated continuation keep their spaces, as llama.cpp
    ///     streams them).
    ///   - rendersSpecialTokens: write control tokens as their text.
    public init(tokenizer: any Tokenizer, startsText: Bool = true, rendersSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.rendersSpecialTokens = rendersSpecialTokens
        self.stripsNextLeadingSpace = startsText && tokenizer.vocabulary.addsSpacePrefix
    }

    /// Adds token `id`; returns the text that is now complete (often empty while a character
    /// is split across tokens).
    public mutating func append(_ id: Int32) -> String {
        tokenizer.vocabulary.appendPiece(of: id, rendersSpecialTokens: rendersSpecialTokens,
                                         stripsLeadingSpace: stripsNextLeadingSpace, to: &pending)
        stripsNextLeadingSpace = false
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Adds several ids; returns the text now complete.
    public mutating func append<S: Sequence>(contentsOf ids: S) -> String where S.Element == Int32 {
        var text = ""
        for id in ids { text += append(id) }
        return text
    }

    /// Returns whatever is held back, with incomplete characters as U+FFFD, and empties the
    /// buffer.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Bytes held back, waiting for the rest of a character.
    public var pendingByteCount: Int { pending.count }

    /// How many leading bytes of `bytes` can be decoded now: all of them, unless they end
    /// with the start of a UTF-8 character that more bytes could still complete. Decoding
    /// that prefix now and the rest later gives the same text as decoding all at once,
    /// because the held-back part starts at a lead byte, where any decoder starts afresh.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // The last lead byte within the last four bytes.
        var lead = n - 1
        while lead >= 0 && lead >= n - 4 && bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
        guard lead >= 0 && lead >= n - 4 else { return n }
        let first = bytes[lead]
        let needed: Int
        switch first {
        case 0xC2...0xDF: needed = 2
        case 0xE0...0xEF: needed = 3
        case 0xF0...0xF4: needed = 4
        default: return n  // ASCII, or a byte that can never start a character
        }
        let have = n - lead
        guard have < needed else { return n }
        // The second byte has a narrower range after some lead bytes.
        if have >= 2 {
            let second = bytes[lead + 1]
            let valid: ClosedRange<UInt8>
            switch first {
            case 0xE0: valid = 0xA0...0xBF
            case 0xED: valid = 0x80...0x9F
            case 0xF0: valid = 0x90...0xBF
            case 0xF4: valid = 0x80...0x8F
            default: valid = 0x80...0xBF
            }
            guard valid.contains(second) else { return n }
        }
        return lead
    }
}
