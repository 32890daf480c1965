/// BPE with ranked merges over SentencePiece-spelled tokens (`tokenizer.ggml.model =
/// "gemma4"`, and `tokenizer.ggml.pre = "sarvam-moe"`), as llama.cpp's `llm_tokenizer_bpe`
/// without byte encoding: spaces become `▁`, the text is cut into lines (newline runs
/// apart), each line is split into its UTF-8 characters, adjacent symbols are merged by the
/// lowest-ranked merge first (leftmost on ties), and a final symbol that is not a token
/// falls back to the byte tokens `<0xXX>` of its bytes. A run of newlines that is a token is
/// taken whole.
///
/// Its vocabulary is a SentencePiece-spelled one (`TokenizerModel.sentencePiece`): tokens
/// decode with `▁` as a space and `<0xXX>` as a byte, and no dummy-prefix space is added.
public struct SentencePieceBPETokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    /// How text is cut into words before merging (`.lines` for Gemma 4).
    public let preTokenizer: PreTokenizer
    let merges: BPEMergeTable
    /// Strings named by merges that are not tokens; symbol `vocabulary.count + i` is
    /// `extraSymbols` string `i`.
    let extraSymbols: ByteStringTable
    /// The byte token `<0xXX>` of each byte value, -1 where the vocabulary has none.
    let byteTokenIDs: [Int32]

    /// - Parameter merges: `tokenizer.ggml.merges`: "left right" per line, best first.
    /// - Throws: `ModelFileError.malformed` when `vocabulary` is not SentencePiece-spelled
    ///   or a merge line has no space between its halves.
    public init(vocabulary: Vocabulary, merges: [String], preTokenizer: PreTokenizer = .lines) throws {
        guard vocabulary.model == .sentencePiece else {
            throw ModelFileError.malformed("a SentencePiece-spelled BPE tokenizer needs a \"llama\"-spelled vocabulary, not \"\(vocabulary.model.rawValue)\"")
        }
        let (table, extra) = try BPEMergeTable.build(merges: merges, vocabulary: vocabulary)
        self.vocabulary = vocabulary
        self.preTokenizer = preTokenizer
        self.merges = table
        self.extraSymbols = extra
        self.byteTokenIDs = (0..<256).map { byte in
            let hex = "<0x" + String(decoding: Vocabulary.hexDigits(UInt8(byte), uppercase: true), as: UTF8.self) + ">"
            return vocabulary.id(of: hex) ?? -1
        }
    }

    public func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool) -> [Int32] {
        var session = Session()
        return vocabulary.encode(text, addSpecialTokens: addSpecialTokens, parseSpecial: parseSpecial) { bytes, output in
            session.tokenize(bytes, tokenizer: self, into: &output)
        }
    }

    /// The symbol number of `bytes`: its token, a string only merges name, or -1.
    @inline(__always)
    func symbol(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if let id = vocabulary.tokenID(bytes) { return id }
        if let index = extraSymbols.index(of: bytes) { return Int32(vocabulary.count + index) }
        return -1
    }

    /// Reusable buffers for one `encode` call.
    struct Session {
        /// The fragment with spaces spelled `▁`.
        var escaped: [UInt8] = []
        var scalars: [UInt32] = []
        /// Byte offset of each scalar, and one past the end.
        var scalarOffsets: [Int32] = []
        var flags: [UInt16] = []
        var wordEnds: [Int32] = []
        /// Per symbol of the current word: its string (-2 once merged away), byte length and links.
        var symbols: [Int32] = []
        var lengths: [Int32] = []
        var previous: [Int32] = []
        var next: [Int32] = []
        var queue = TokenPriorityQueue<ByteLevelBPETokenizer.Bigram>()
        var cache = TokenCache()

        mutating func tokenize(_ text: UnsafeRawBufferPointer, tokenizer: SentencePieceBPETokenizer, into output: inout [Int32]) {
            escaped.removeAll(keepingCapacity: true)
            for byte in text {
                if byte == UInt8(ascii: " ") {
                    escaped.append(contentsOf: [0xE2, 0x96, 0x81])
                } else {
                    escaped.append(byte)
                }
            }
            let bytes = escaped
            bytes.withUnsafeBytes { word in
                decodeScalars(word)
                wordEnds.removeAll(keepingCapacity: true)
                scalars.withUnsafeBufferPointer { scalars in
                    flags.withUnsafeBufferPointer { flags in
                        tokenizer.preTokenizer.split(scalars, flags: flags, into: &wordEnds)
                    }
                }
                var start = 0
                for end in wordEnds {
                    let byteStart = Int(scalarOffsets[start]), byteEnd = Int(scalarOffsets[Int(end)])
                    tokenizeWord(UnsafeRawBufferPointer(rebasing: word[byteStart..<byteEnd]), tokenizer: tokenizer, into: &output)
                    start = Int(end)
                }
            }
        }

        /// Fills `scalars`, `scalarOffsets` and `flags` from valid UTF-8.
        private mutating func decodeScalars(_ text: UnsafeRawBufferPointer) {
            scalars.removeAll(keepingCapacity: true)
            scalarOffsets.removeAll(keepingCapacity: true)
            flags.removeAll(keepingCapacity: true)
            var i = 0
            while i < text.count {
                let length = min(Self.utf8Length(leadByte: text[i]), text.count - i)
                var value = UInt32(text[i]) & (length == 1 ? 0x7F : length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
                for k in 1..<max(length, 1) { value = value << 6 | UInt32(text[i + k] & 0x3F) }
                scalars.append(value)
                scalarOffsets.append(Int32(i))
                flags.append(CodepointFlags.of(value).rawValue)
                i += length
            }
            scalarOffsets.append(Int32(text.count))
        }

        @inline(__always)
        static func utf8Length(leadByte: UInt8) -> Int {
            leadByte < 0x80 ? 1 : leadByte < 0xE0 ? 2 : leadByte < 0xF0 ? 3 : 4
        }

        /// Merges one word and appends its tokens.
        private mutating func tokenizeWord(_ word: UnsafeRawBufferPointer, tokenizer: SentencePieceBPETokenizer,
                                           into output: inout [Int32]) {
            if word.isEmpty { return }
            if cache.appendTokens(of: word, to: &output) { return }
            let firstOutput = output.count
            defer { cache.insert(word, tokens: output[firstOutput...]) }
            if !word.contains(where: { $0 != UInt8(ascii: "\n") }), let id = tokenizer.vocabulary.tokenID(word) {
                output.append(id)
                return
            }
            symbols.removeAll(keepingCapacity: true)
            lengths.removeAll(keepingCapacity: true)
            previous.removeAll(keepingCapacity: true)
            next.removeAll(keepingCapacity: true)
            var offset = 0
            while offset < word.count {
                let length = min(Self.utf8Length(leadByte: word[offset]), word.count - offset)
                symbols.append(tokenizer.symbol(UnsafeRawBufferPointer(rebasing: word[offset..<(offset + length)])))
                lengths.append(Int32(length))
                offset += length
            }
            let count = symbols.count
            for i in 0..<count {
                previous.append(Int32(i - 1))
                next.append(i + 1 == count ? -1 : Int32(i + 1))
            }
            queue.removeAll()
            for i in 1..<max(count, 1) { addBigram(Int32(i - 1), Int32(i), tokenizer.merges) }
            while let bigram = queue.pop() {
                let left = Int(bigram.left)
                let right = Int(next[left])
                guard symbols[left] == bigram.leftSymbol, right >= 0, symbols[right] == bigram.rightSymbol else {
                    continue  // stale: one side has changed since this pair was queued
                }
                symbols[left] = bigram.result
                lengths[left] += lengths[right]
                symbols[right] = -2
                next[left] = next[right]
                if next[right] >= 0 { previous[Int(next[right])] = bigram.left }
                addBigram(previous[left], bigram.left, tokenizer.merges)
                addBigram(bigram.left, next[left], tokenizer.merges)
            }
            var index: Int32 = 0
            offset = 0
            while index >= 0 {
                let length = Int(lengths[Int(index)])
                let symbol = symbols[Int(index)]
                if symbol >= 0 && Int(symbol) < tokenizer.vocabulary.count {
                    output.append(symbol)
                } else {
                    for byte in word[offset..<(offset + length)] where tokenizer.byteTokenIDs[Int(byte)] >= 0 {
                        output.append(tokenizer.byteTokenIDs[Int(byte)])
                    }
                }
                offset += length
                index = next[Int(index)]
            }
        }

        @inline(__always)
        private mutating func addBigram(_ left: Int32, _ right: Int32, _ merges: BPEMergeTable) {
            guard left >= 0, right >= 0 else { return }
            let leftSymbol = symbols[Int(left)], rightSymbol = symbols[Int(right)]
            guard leftSymbol >= 0, rightSymbol >= 0, let merge = merges.merge(leftSymbol, rightSymbol) else { return }
            queue.push(.init(rank: merge.rank, left: left, leftSymbol: leftSymbol, rightSymbol: rightSymbol,
                             result: merge.result))
        }
    }
}
