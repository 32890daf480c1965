/// SentencePiece-style BPE (`tokenizer.ggml.model = "llama"`), as llama.cpp's
/// `llm_tokenizer_spm`: spaces become `▁`, a dummy-prefix space starts the text, the text is
/// split into UTF-8 characters, and adjacent symbols whose concatenation is a token are
/// merged, highest-scoring pair first (leftmost on ties). Symbols that are not tokens at the
/// end fall back to byte tokens `<0xXX>`, or to the unknown token when those are missing.
///
/// One deliberate difference: plain text never merges into a control or unknown token.
/// llama.cpp would turn the text `<s>` into BOS in a vocabulary that has a piece `<s`;
/// SentencePiece itself never does, and real vocabularies have no such pieces.
///
/// The merge queue spans the whole text in llama.cpp. Here the text is cut before each `▁`
/// that no token can reach across (no token has that `▁` after the character before it),
/// and each piece is merged on its own: no merge can join symbols on both sides of such a
/// cut, and the order of merges within a piece is unchanged, so the result is the same,
/// with small queues instead of one as long as the text.
public struct SentencePieceTokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    /// The token for each byte value (`<0xXX>`, else the one-byte token), -1 where none.
    let byteTokenIDs: [Int32]
    /// Characters that some token has right before a `▁` (in Llama's vocabulary only `▁`
    /// itself): the text is not cut between such a character and a `▁`.
    let charactersBeforeSpaceMarker: ByteStringTable

    /// - Throws: `ModelFileError.malformed` when `vocabulary` is not a SentencePiece one.
    public init(vocabulary: Vocabulary) throws {
        guard vocabulary.model == .sentencePiece else {
            throw ModelFileError.malformed("a SentencePiece tokenizer needs a \"llama\" vocabulary, not \"\(vocabulary.model.rawValue)\"")
        }
        self.vocabulary = vocabulary
        byteTokenIDs = (0..<256).map { byte in
            let hex = "<0x" + String(decoding: Vocabulary.hexDigits(UInt8(byte), uppercase: true), as: UTF8.self) + ">"
            return vocabulary.id(of: hex) ?? vocabulary.tokenID([UInt8(byte)]) ?? -1
        }
        var before = ByteStringTable(capacity: 16)
        for id in 0..<vocabulary.count where vocabulary.attributes[id].isDisjoint(with: TokenAttributes.hiddenUnlessRendered) {
            let text = Array(vocabulary.texts.bytes(at: id))
            var start = 0
            while start < text.count {
                let length = min(Session.utf8Length(leadByte: text[start]), text.count - start)
                let next = start + length
                if next + 3 <= text.count && text[next] == 0xE2 && text[next + 1] == 0x96 && text[next + 2] == 0x81 {
                    let character = text[start..<next]
                    if before.index(of: character) == nil { before.append(character) }
                }
                start = next
            }
        }
        charactersBeforeSpaceMarker = before
    }

    public func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool) -> [Int32] {
        var text = text
        return text.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            var output: [Int32] = []
            output.reserveCapacity(raw.count / 3 + 2)
            if addSpecialTokens && vocabulary.addsBOS, let bos = vocabulary.specialTokens.bos {
                output.append(bos)
            }
            var session = Session()
            var previousIsSpecial = true
            for fragment in vocabulary.fragments(of: raw, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id):
                    output.append(id)
                    previousIsSpecial = true
                case .text(let range):
                    let prefix = vocabulary.addsSpacePrefix && previousIsSpecial
                    session.tokenize(UnsafeRawBufferPointer(rebasing: raw[range]), spacePrefix: prefix,
                                     tokenizer: self, into: &output)
                    previousIsSpecial = false
                }
            }
            if addSpecialTokens && vocabulary.addsEOS, let eos = vocabulary.specialTokens.eos {
                output.append(eos)
            }
            return output
        }
    }

    /// A symbol: a run of the escaped text, linked to its neighbours.
    struct Symbol {
        var start: Int32
        var length: Int32
        var previous: Int32
        var next: Int32
    }

    /// A candidate merge of symbol `left` with its right neighbour.
    struct Bigram: TokenQueueElement {
        var score: Float
        var left: Int32
        var right: Int32
        var length: Int32

        static func precedes(_ a: Bigram, _ b: Bigram) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
    }

    /// Reusable buffers for one `encode` call.
    struct Session {
        var escaped: [UInt8] = []
        var symbols: [Symbol] = []
        var queue = TokenPriorityQueue<Bigram>()
        var cache = TokenCache()

        mutating func tokenize(_ text: UnsafeRawBufferPointer, spacePrefix: Bool, tokenizer: SentencePieceTokenizer,
                               into output: inout [Int32]) {
            escaped.removeAll(keepingCapacity: true)
            if spacePrefix { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) }
            for byte in text {
                if byte == UInt8(ascii: " ") {
                    escaped.append(contentsOf: [0xE2, 0x96, 0x81])
                } else {
                    escaped.append(byte)
                }
            }
            guard !escaped.isEmpty else { return }
            escaped.withUnsafeBytes { bytes in
                // Cut before each `▁` whose preceding character no token puts before a `▁`.
                var pieceStart = 0
                var previousStart = 0
                var offset = 0
                while offset < bytes.count {
                    let length = min(Self.utf8Length(leadByte: bytes[offset]), bytes.count - offset)
                    if offset > pieceStart && length == 3 && bytes[offset] == 0xE2 && bytes[offset + 1] == 0x96
                        && bytes[offset + 2] == 0x81
                        && tokenizer.charactersBeforeSpaceMarker.index(of: UnsafeRawBufferPointer(rebasing: bytes[previousStart..<offset])) == nil {
                        merge(bytes, pieceStart..<offset, tokenizer: tokenizer, into: &output)
                        pieceStart = offset
                    }
                    previousStart = offset
                    offset += length
                }
                merge(bytes, pieceStart..<bytes.count, tokenizer: tokenizer, into: &output)
            }
        }

        /// Merges the symbols of `bytes[range]` and appends their tokens.
        private mutating func merge(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, tokenizer: SentencePieceTokenizer,
                                    into output: inout [Int32]) {
            let piece = UnsafeRawBufferPointer(rebasing: bytes[range])
            let cacheable = range.count > 4
            if cacheable && cache.appendTokens(of: piece, to: &output) { return }
            let firstOutput = output.count
            defer { if cacheable { cache.insert(piece, tokens: output[firstOutput...]) } }

            // One symbol per UTF-8 character.
            symbols.removeAll(keepingCapacity: true)
            var offset = range.lowerBound
            while offset < range.upperBound {
                let length = min(Self.utf8Length(leadByte: bytes[offset]), range.upperBound - offset)
                let index = Int32(symbols.count)
                symbols.append(Symbol(start: Int32(offset), length: Int32(length), previous: index - 1,
                                      next: offset + length == range.upperBound ? -1 : index + 1))
                offset += length
            }
            guard !symbols.isEmpty else { return }

            let vocabulary = tokenizer.vocabulary
            queue.removeAll()
            for i in 1..<max(symbols.count, 1) {
                addBigram(Int32(i - 1), Int32(i), bytes, vocabulary)
            }
            while let bigram = queue.pop() {
                let left = Int(bigram.left), right = Int(bigram.right)
                guard symbols[left].length > 0, symbols[right].length > 0,
                      symbols[left].length + symbols[right].length == bigram.length else { continue }
                symbols[left].length += symbols[right].length
                symbols[right].length = 0
                symbols[left].next = symbols[right].next
                if symbols[right].next >= 0 { symbols[Int(symbols[right].next)].previous = bigram.left }
                addBigram(symbols[left].previous, bigram.left, bytes, vocabulary)
                addBigram(bigram.left, symbols[left].next, bytes, vocabulary)
            }

            var index: Int32 = 0
            while index >= 0 {
                let symbol = symbols[Int(index)]
                let span = UnsafeRawBufferPointer(rebasing: bytes[Int(symbol.start)..<Int(symbol.start + symbol.length)])
                if let id = vocabulary.plainTokenID(span) {
                    output.append(id)
                } else {
                    for byte in span {
                        let id = tokenizer.byteTokenIDs[Int(byte)]
                        if id >= 0 {
                            output.append(id)
                        } else if let unknown = vocabulary.specialTokens.unknown {
                            output.append(unknown)
                        }
                    }
                }
                index = symbol.next
            }
        }

        private mutating func addBigram(_ left: Int32, _ right: Int32, _ bytes: UnsafeRawBufferPointer,
                                        _ vocabulary: Vocabulary) {
            guard left >= 0, right >= 0 else { return }
            let start = Int(symbols[Int(left)].start)
            let length = Int(symbols[Int(left)].length + symbols[Int(right)].length)
            guard let id = vocabulary.plainTokenID(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])) else {
                return
            }
            queue.push(Bigram(score: vocabulary.scores[Int(id)], left: left, right: right, length: Int32(length)))
        }

        /// The length of the UTF-8 sequence `leadByte` starts (1 for stray continuation bytes).
        @inline(__always)
        static func utf8Length(leadByte: UInt8) -> Int {
            switch leadByte >> 4 {
            case 0xC, 0xD: return 2
            case 0xE: return 3
            case 0xF: return 4
            default: return 1
            }
        }
    }
}
