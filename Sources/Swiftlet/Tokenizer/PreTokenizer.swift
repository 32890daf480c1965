/// How BPE cuts text into words before merging (`tokenizer.ggml.pre`), one case per
/// pre-tokenization llama.cpp knows. The first four are hand-written scanners equal to the
/// regular expressions llama.cpp uses (and Qwen 3.5's); the others are sequences of `SplitRule`s (see
/// `PreTokenizer+Rules.swift`), each one of llama.cpp's expressions written as matchers over
/// Unicode scalars classified by `CodepointFlags`.
public enum PreTokenizer: Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3
    /// Qwen 2: the Llama 3 expression with `\p{N}` (one digit per word) for `\p{N}{1,3}`.
    case qwen2
    /// llama.cpp's `default`: `[\p{P}\$\+<=>\^~\|]+` apart, then the GPT-2 expression, then
    /// `\p{N}+` apart, then `[0-9][0-9][0-9]` apart, each splitting the previous words.
    case standard
    /// StarCoder, Refact, Command R, SmolLM, CodeShell, EXAONE, Minerva, Mellum 2: every
    /// number apart (`\p{N}`), then the GPT-2 expression.
    case starCoder
    /// Falcon: `[\p{P}\$\+<=>\^~\|`]+` apart, the GPT-2 expression, then `[0-9][0-9][0-9]`.
    case falcon
    /// DeepSeek LLM: newlines, Latin/Greek/Cyrillic/... letter runs with an optional leading
    /// space, ASCII and full-width punctuation runs, trailing whitespace, CJK and Hangul runs,
    /// number runs, each apart in turn.
    case deepSeekLLM
    /// DeepSeek Coder: newlines, letter runs and punctuation runs (each with an optional
    /// leading space), CJK and Hangul runs, then single numbers apart.
    case deepSeekCoder
    /// DeepSeek V3 (also Hunyuan dense, JoyAI, HY v4): numbers in threes, CJK and kana runs,
    /// then words of letters and marks, punctuation-and-symbol runs and whitespace.
    case deepSeekV3
    /// Spark 2.5: as DeepSeek V3 with newlines apart and single numbers last.
    case spark
    /// Youtu: Hangul, CJK punctuation, Bopomofo and CJK runs, then the Qwen 2 words with
    /// letters and marks together and a contraction kept on its word.
    case youtu
    /// Qwen 3.5: the Qwen 2 expression with marks (`\p{M}`) in words (hand-written too).
    case qwen35
    /// Jais 2: the Llama 3 expression with whitespace runs cut in powers of two.
    case jais2
    /// Mistral Tekken: words split at lower-to-upper case changes, single numbers.
    case tekken
    /// GPT-4o (also Llama 4, Kanana 2, MiniMax M2): as Tekken with contractions kept on
    /// their word and numbers in threes.
    case gpt4o
    /// Granite multilingual embeddings (97M): as GPT-4o with marks in words.
    case graniteMultilingual
    /// Tiny Aya: numbers in thousands groups from the right, then GPT-4o-style words.
    case tinyAya
    /// Kimi K2: Han runs apart from other letters, GPT-4o-style words, numbers in threes.
    case kimiK2
    /// SuperBPE: number runs apart, then cut before each group of three digits from the right.
    case superBPE
    /// Bailing MoE: the Qwen 2 expression with one newline per whitespace word.
    case bailingMoE
    /// Seed-Coder: the Qwen 2 expression without newlines after punctuation.
    case seedCoder
    /// Ufakzeka: the Qwen 2 expression without contractions.
    case ufakzeka
    /// AFMoE: digit groups, CJK and South-East Asian script runs, then DeepSeek V3 words.
    case afmoe
    /// Laguna: lines apart, then the Qwen 2 expression.
    case laguna
    /// EXAONE MoE: words of letters and marks that may contain single spaces.
    case exaoneMoE
    /// MiniCPM 5: numbers in threes, then the Llama 3 expression with whole numbers.
    case miniCPM5
    /// BLOOM, Poro, GPT-3 Finnish: ` ?[^(\s|.,!?…。，、।۔،)]+`.
    case bloom
    /// Viking: the BLOOM expression, then single numbers apart.
    case viking
    /// Chameleon: sentinel and image tokens, tabs, newlines and space pairs, single
    /// numbers and punctuation apart, then the GPT-2 expression.
    case chameleon
    /// Gemma 4 (and Sarvam MoE): lines apart (`[^\n]+|[\n]+`); used with SentencePiece
    /// spelling (spaces as `▁`, no byte-level characters).
    case lines

    /// Appends to `ends` the end (exclusive, in scalars) of every word of `scalars`, whose
    /// classes are `flags`.
    func split(_ scalars: UnsafeBufferPointer<UInt32>, flags: UnsafeBufferPointer<UInt16>, into ends: inout [Int32]) {
        let scanner = Scanner(scalars: scalars, flags: flags)
        switch self {
        case .gpt2:
            scanner.gpt2(0, scalars.count, &ends)
        case .llama3:
            scanner.llama3(0, scalars.count, maximumDigits: 3, &ends)
        case .qwen2:
            scanner.llama3(0, scalars.count, maximumDigits: 1, &ends)
        case .qwen35:
            scanner.qwen35(0, scalars.count, &ends)
        case .standard:
            var words: [Int32] = []
            scanner.runs(0, scalars.count, of: Scanner.isStandardPunctuation, &words)
            var next: [Int32] = []
            scanner.forEach(words) { scanner.gpt2($0, $1, &next) }
            words = next
            next.removeAll(keepingCapacity: true)
            scanner.forEach(words) { scanner.runs($0, $1, of: Scanner.isCollapsedNumber, &next) }
            scanner.forEach(next) { scanner.asciiDigitTriples($0, $1, &ends) }
        default:
            let rules = self.rules
            var words: [Int32] = [Int32(scalars.count)]
            var next: [Int32] = []
            for (index, rule) in rules.enumerated() {
                if index + 1 == rules.count {
                    scanner.forEach(words) { rule.apply($0, $1, scanner, &ends) }
                } else {
                    next.removeAll(keepingCapacity: true)
                    scanner.forEach(words) { rule.apply($0, $1, scanner, &next) }
                    swap(&words, &next)
                }
            }
        }
    }

    /// The scanners. A position at or past the end of a range has empty flags, which no
    /// class matches.
    struct Scanner {
        let scalars: UnsafeBufferPointer<UInt32>
        let flags: UnsafeBufferPointer<UInt16>

        private static let apostrophe = UInt32(UInt8(ascii: "'"))
        private static let space = UInt32(UInt8(ascii: " "))
        private static let carriageReturn: UInt32 = 0x0D
        private static let lineFeed: UInt32 = 0x0A

        @inline(__always)
        func flags(_ position: Int, _ end: Int) -> CodepointFlags {
            position < end ? CodepointFlags(rawValue: flags[position]) : []
        }

        /// Calls `body(start, end)` for each word given by its `ends`.
        func forEach(_ ends: [Int32], _ body: (Int, Int) -> Void) {
            var start = 0
            for end in ends {
                body(start, Int(end))
                start = Int(end)
            }
        }

        @inline(__always)
        private func emit(_ end: Int, _ ends: inout [Int32], from start: Int) {
            let last = ends.last.map(Int.init) ?? 0
            if end > max(last, start) { ends.append(Int32(end)) }
        }

        /// The contraction at `position` (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`), ASCII
        /// letters compared without case when `ignoringCase`; its length or 0.
        @inline(__always)
        func contractionLength(at position: Int, _ end: Int, ignoringCase: Bool) -> Int {
            guard scalars[position] == Self.apostrophe, position + 1 < end else { return 0 }
            func letter(_ i: Int) -> UInt32 {
                let c = scalars[i]
                return ignoringCase && c >= 0x41 && c <= 0x5A ? c + 0x20 : c
            }
            let next = letter(position + 1)
            if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 { return 2 }  // s t m d
            if position + 2 < end {
                let after = letter(position + 2)
                if (next == 0x72 && after == 0x65) || (next == 0x76 && after == 0x65) || (next == 0x6C && after == 0x6C) {
                    return 3  // re ve ll
                }
            }
            return 0
        }

        /// The GPT-2 expression over `scalars[start..<end]`.
        func gpt2(_ start: Int, _ end: Int, _ ends: inout [Int32]) {
            var position = start
            while position < end {
                let c = scalars[position]
                let contraction = contractionLength(at: position, end, ignoringCase: false)
                if contraction > 0 {
                    position += contraction
                    emit(position, &ends, from: start)
                    continue
                }
                // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
                let head = c == Self.space ? flags(position + 1, end) : flags(position, end)
                if head.contains(.letter) || head.contains(.number) {
                    let kind: CodepointFlags = head.contains(.letter) ? .letter : .number
                    if c == Self.space { position += 1 }
                    while flags(position, end).contains(kind) { position += 1 }
                    emit(position, &ends, from: start)
                    continue
                }
                if head.isDisjoint(with: CodepointFlags.wordLike) && !head.isEmpty {
                    if c == Self.space { position += 1 }
                    while case let f = flags(position, end), f.isDisjoint(with: CodepointFlags.wordLike), !f.isEmpty {
                        position += 1
                    }
                    emit(position, &ends, from: start)
                    continue
                }
                // `\s+(?!\S)`, `\s+`
                var count = 0
                while flags(position + count, end).contains(.whitespace) { count += 1 }
                if count > 1 && position + count < end {
                    position += count - 1
                } else if count > 0 {
                    position += count
                } else {
                    position += 1
                }
                emit(position, &ends, from: start)
            }
        }

        /// The Llama 3 expression over `scalars[start..<end]`, numbers cut every
        /// `maximumDigits` digits.
        func llama3(_ start: Int, _ end: Int, maximumDigits: Int, _ ends: inout [Int32]) {
            var position = start
            while position < end {
                let c = scalars[position]
                let f = flags(position, end)
                let contraction = contractionLength(at: position, end, ignoringCase: true)
                if contraction > 0 {
                    position += contraction
                    emit(position, &ends, from: start)
                    continue
                }
                // `[^\r\n\p{L}\p{N}]?\p{L}+`
                if !(c == Self.carriageReturn || c == Self.lineFeed || f.contains(.number))
                    && (f.contains(.letter) || flags(position + 1, end).contains(.letter)) {
                    position += 1
                    while flags(position, end).contains(.letter) { position += 1 }
                    emit(position, &ends, from: start)
                    continue
                }
                // `\p{N}{1,3}`
                if f.contains(.number) {
                    var groupStart = position
                    while flags(position, end).contains(.number) {
                        position += 1
                        if position - groupStart >= maximumDigits {
                            emit(position, &ends, from: start)
                            groupStart = position
                        }
                    }
                    emit(position, &ends, from: start)
                    continue
                }
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                let head = c == Self.space ? flags(position + 1, end) : f
                if head.isDisjoint(with: CodepointFlags.wordLike) && !f.isEmpty {
                    if c == Self.space { position += 1 }
                    while case let g = flags(position, end), g.isDisjoint(with: CodepointFlags.wordLike), !g.isEmpty {
                        position += 1
                    }
                    while position < end && (scalars[position] == Self.carriageReturn || scalars[position] == Self.lineFeed) {
                        position += 1
                    }
                    emit(position, &ends, from: start)
                    continue
                }
                // `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`
                var count = 0
                var afterLastNewline = 0
                while flags(position + count, end).contains(.whitespace) {
                    let w = scalars[position + count]
                    if w == Self.carriageReturn || w == Self.lineFeed { afterLastNewline = position + count + 1 }
                    count += 1
                }
                if afterLastNewline > 0 {
                    position = afterLastNewline
                } else if count > 1 && position + count < end {
                    position += count - 1
                } else if count > 0 {
                    position += count
                } else {
                    position += 1
                }
                emit(position, &ends, from: start)
            }
        }

        /// The Qwen 3.5 expression over `scalars[start..<end]`: the Llama 3 one with marks in
        /// words (`[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+`, ` ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*`) and one
        /// digit per word.
        func qwen35(_ start: Int, _ end: Int, _ ends: inout [Int32]) {
            let word: CodepointFlags = [.letter, .mark]
            let notPunctuation: CodepointFlags = [.letter, .mark, .number, .whitespace]
            var position = start
            while position < end {
                let c = scalars[position]
                let f = flags(position, end)
                let contraction = contractionLength(at: position, end, ignoringCase: true)
                if contraction > 0 {
                    position += contraction
                    emit(position, &ends, from: start)
                    continue
                }
                if !(c == Self.carriageReturn || c == Self.lineFeed || f.contains(.number))
                    && (!f.isDisjoint(with: word) || !flags(position + 1, end).isDisjoint(with: word)) {
                    position += 1
                    while !flags(position, end).isDisjoint(with: word) { position += 1 }
                    emit(position, &ends, from: start)
                    continue
                }
                if f.contains(.number) {
                    position += 1
                    emit(position, &ends, from: start)
                    continue
                }
                let head = c == Self.space ? flags(position + 1, end) : f
                if head.isDisjoint(with: notPunctuation) && !head.isEmpty {
                    if c == Self.space { position += 1 }
                    while case let g = flags(position, end), g.isDisjoint(with: notPunctuation), !g.isEmpty {
                        position += 1
                    }
                    while position < end && (scalars[position] == Self.carriageReturn || scalars[position] == Self.lineFeed) {
                        position += 1
                    }
                    emit(position, &ends, from: start)
                    continue
                }
                var count = 0
                var afterLastNewline = 0
                while flags(position + count, end).contains(.whitespace) {
                    let w = scalars[position + count]
                    if w == Self.carriageReturn || w == Self.lineFeed { afterLastNewline = position + count + 1 }
                    count += 1
                }
                if afterLastNewline > 0 {
                    position = afterLastNewline
                } else if count > 1 && position + count < end {
                    position += count - 1
                } else if count > 0 {
                    position += count
                } else {
                    position += 1
                }
                emit(position, &ends, from: start)
            }
        }

        /// Splits `scalars[start..<end]` into maximal runs of scalars that are and are not
        /// in a class.
        func runs(_ start: Int, _ end: Int, of isMember: (UInt32, CodepointFlags) -> Bool, _ ends: inout [Int32]) {
            var position = start
            while position < end {
                let member = isMember(scalars[position], flags(position, end))
                position += 1
                while position < end && isMember(scalars[position], flags(position, end)) == member { position += 1 }
                ends.append(Int32(position))
            }
        }

        /// Cuts out every run of three ASCII digits, leftmost first (`[0-9][0-9][0-9]`).
        func asciiDigitTriples(_ start: Int, _ end: Int, _ ends: inout [Int32]) {
            func isDigit(_ i: Int) -> Bool { scalars[i] >= 0x30 && scalars[i] <= 0x39 }
            var position = start
            var pieceStart = start
            while position + 3 <= end {
                if isDigit(position) && isDigit(position + 1) && isDigit(position + 2) {
                    if position > pieceStart { ends.append(Int32(position)) }
                    position += 3
                    ends.append(Int32(position))
                    pieceStart = position
                } else {
                    position += 1
                }
            }
            if end > pieceStart { ends.append(Int32(end)) }
        }

        /// `[\p{P}\$\+<=>\^~\|]` as llama.cpp evaluates it: ASCII punctuation and symbols but
        /// the backtick, and non-ASCII punctuation.
        static func isStandardPunctuation(_ c: UInt32, _ f: CodepointFlags) -> Bool {
            if c < 0x80 {
                return f.contains(.punctuation) || (f.contains(.symbol) && c != 0x60)
            }
            return !f.contains(.whitespace) && f.contains(.punctuation)
        }

        /// `\p{N}` as llama.cpp evaluates it (whitespace first).
        static func isCollapsedNumber(_ c: UInt32, _ f: CodepointFlags) -> Bool {
            f.contains(.number) && (c < 0x80 || !f.contains(.whitespace))
        }
    }
}

