/// GPT-2 byte-level BPE (`tokenizer.ggml.model = "gpt2"`), as llama.cpp's
/// `llm_tokenizer_bpe`: the pre-tokenizer cuts the text into words, each byte of a word
/// becomes the character that stands for it (`ByteLevelEncoding`), and adjacent symbols are
/// merged by the lowest-ranked merge first (leftmost on ties) from a priority queue.
///
/// Symbols are numbered strings: token ids for strings in the vocabulary, and numbers past
/// the vocabulary for strings that only the merge list names. Two symbols are equal exactly
/// when their strings are, so merging by number is merging by string, as llama.cpp does.
public struct ByteLevelBPETokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    /// How text is cut into words (`tokenizer.ggml.pre`).
    public let preTokenizer: PreTokenizer
    /// A word that is itself a token is taken whole, unmerged (`ignore_merges`).
    public let ignoresMerges: Bool
    let merges: BPEMergeTable
    /// Strings named by merges that are not tokens; symbol `vocabulary.count + i` is
    /// `extraSymbols` string `i`.
    let extraSymbols: ByteStringTable
    /// The symbol of each byte's stand-in character, -1 when neither a token nor named by a merge.
    let byteSymbols: [Int32]

    /// - Parameters:
    ///   - merges: `tokenizer.ggml.merges`: "left right" per line, best first.
    ///   - ignoresMerges: take a word whole when it is a token (Llama 3).
    /// - Throws: `ModelFileError.malformed` when `vocabulary` is not a byte-level one or a
    ///   merge line has no space between its halves.
    public init(vocabulary: Vocabulary, merges: [String], preTokenizer: PreTokenizer, ignoresMerges: Bool) throws {
        guard vocabulary.model == .byteLevelBPE else {
            throw ModelFileError.malformed("a byte-level BPE tokenizer needs a \"gpt2\" vocabulary, not \"\(vocabulary.model.rawValue)\"")
        }
        let (table, extra) = try BPEMergeTable.build(merges: merges, vocabulary: vocabulary)
        self.byteSymbols = ByteLevelEncoding.utf8ForByte.map { bytes in
            if let id = vocabulary.tokenID(bytes) { return id }
            if let index = extra.index(of: bytes) { return Int32(vocabulary.count + index) }
            return -1
        }
        self.vocabulary = vocabulary
        self.preTokenizer = preTokenizer
        self.ignoresMerges = ignoresMerges
        self.merges = table
        self.extraSymbols = extra
    }

    public func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool) -> [Int32] {
        var session = Session()
        return vocabulary.encode(text, addSpecialTokens: addSpecialTokens, parseSpecial: parseSpecial) { bytes, output in
            session.tokenize(bytes, tokenizer: self, into: &output)
        }
    }

    /// A candidate merge of symbol `left` (string `leftSymbol`) with its right neighbour
    /// (string `rightSymbol`) into `result`.
    struct Bigram: TokenQueueElement {
        var rank: Int32
        var left: Int32
        var leftSymbol: Int32
        var rightSymbol: Int32
        var result: Int32

        static func precedes(_ a: Bigram, _ b: Bigram) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
        }
    }

    /// Reusable buffers for one `encode` call.
    struct Session {
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
        var queue = TokenPriorityQueue<Bigram>()
        var encodedWord: [UInt8] = []
        var cache = TokenCache()

        mutating func tokenize(_ text: UnsafeRawBufferPointer, tokenizer: ByteLevelBPETokenizer, into output: inout [Int32]) {
            decodeScalars(text)
            wordEnds.removeAll(keepingCapacity: true)
            scalars.withUnsafeBufferPointer { scalars in
                flags.withUnsafeBufferPointer { flags in
                    tokenizer.preTokenizer.split(scalars, flags: flags, into: &wordEnds)
                }
            }
            var start = 0
            for end in wordEnds {
                let byteStart = Int(scalarOffsets[start]), byteEnd = Int(scalarOffsets[Int(end)])
                tokenizeWord(UnsafeRawBufferPointer(rebasing: text[byteStart..<byteEnd]), tokenizer: tokenizer, into: &output)
                start = Int(end)
            }
        }

        /// Fills `scalars`, `scalarOffsets` and `flags` from valid UTF-8.
        private mutating func decodeScalars(_ text: UnsafeRawBufferPointer) {
            scalars.removeAll(keepingCapacity: true)
            scalarOffsets.removeAll(keepingCapacity: true)
            flags.removeAll(keepingCapacity: true)
            CodepointFlagTable.shared.withUnsafeBufferPointer { table in
                var i = 0
                let n = text.count
                while i < n {
                    let lead = text[i]
                    var value: UInt32
                    var length: Int
                    if lead < 0x80 {
                        value = UInt32(lead); length = 1
                    } else if lead < 0xE0 {
                        value = UInt32(lead & 0x1F); length = 2
                    } else if lead < 0xF0 {
                        value = UInt32(lead & 0x0F); length = 3
                    } else {
                        value = UInt32(lead & 0x07); length = 4
                    }
                    length = min(length, n - i)
                    for k in 1..<max(length, 1) { value = value << 6 | UInt32(text[i + k] & 0x3F) }
                    scalars.append(value)
                    scalarOffsets.append(Int32(i))
                    flags.append(value < UInt32(table.count) ? table[Int(value)] : CodepointFlags.computed(value).rawValue)
                    i += length
                }
                scalarOffsets.append(Int32(n))
            }
        }

        /// Merges one word and appends its tokens.
        private mutating func tokenizeWord(_ word: UnsafeRawBufferPointer, tokenizer: ByteLevelBPETokenizer,
                                           into output: inout [Int32]) {
            let vocabulary = tokenizer.vocabulary
            let cacheable = word.count > 1
            if cacheable && cache.appendTokens(of: word, to: &output) { return }
            let firstOutput = output.count
            defer { if cacheable { cache.insert(word, tokens: output[firstOutput...]) } }
            if tokenizer.ignoresMerges {
                encodedWord.removeAll(keepingCapacity: true)
                for byte in word { encodedWord.append(contentsOf: ByteLevelEncoding.utf8ForByte[Int(byte)]) }
                if let id = encodedWord.withUnsafeBytes({ vocabulary.plainTokenID($0) }) {
                    output.append(id)
                    return
                }
            }
            let count = word.count
            if count == 1 {
                appendSymbol(tokenizer.byteSymbols[Int(word[0])], bytes: word, tokenizer: tokenizer, into: &output)
                return
            }
            symbols.removeAll(keepingCapacity: true)
            lengths.removeAll(keepingCapacity: true)
            previous.removeAll(keepingCapacity: true)
            next.removeAll(keepingCapacity: true)
            for (i, byte) in word.enumerated() {
                symbols.append(tokenizer.byteSymbols[Int(byte)])
                lengths.append(1)
                previous.append(Int32(i - 1))
                next.append(i + 1 == count ? -1 : Int32(i + 1))
            }
            queue.removeAll()
            for i in 1..<count { addBigram(Int32(i - 1), Int32(i), tokenizer.merges) }
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
            var offset = 0
            while index >= 0 {
                let length = Int(lengths[Int(index)])
                appendSymbol(symbols[Int(index)], bytes: UnsafeRawBufferPointer(rebasing: word[offset..<(offset + length)]),
                             tokenizer: tokenizer, into: &output)
                offset += length
                index = next[Int(index)]
            }
        }

        @inline(__always)
        private mutating func addBigram(_ left: Int32, _ right: Int32, _ merges: BPEMergeTable) {
            guard left >= 0, right >= 0 else { return }
            let leftSymbol = symbols[Int(left)], rightSymbol = symbols[Int(right)]
            guard leftSymbol >= 0, rightSymbol >= 0, let merge = merges.merge(leftSymbol, rightSymbol) else { return }
            queue.push(Bigram(rank: merge.rank, left: left, leftSymbol: leftSymbol, rightSymbol: rightSymbol,
                              result: merge.result))
        }

        /// Appends the token of a final symbol; a symbol that is not a token falls back, as in
        /// llama.cpp, to the tokens spelled by single bytes of its stand-in text.
        @inline(__always)
        private func appendSymbol(_ symbol: Int32, bytes: UnsafeRawBufferPointer, tokenizer: ByteLevelBPETokenizer,
                                  into output: inout [Int32]) {
            if symbol >= 0 && Int(symbol) < tokenizer.vocabulary.count {
                output.append(symbol)
                return
            }
            for byte in bytes {
                for encoded in ByteLevelEncoding.utf8ForByte[Int(byte)] {
                    if let id = tokenizer.vocabulary.tokenID([encoded]) { output.append(id) }
                }
            }
        }
    }
}
