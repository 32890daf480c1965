extension PreTokenizer {
    /// The passes of a rule-based pre-tokenizer, in order (empty for the four hand-written
    /// ones, which `split` runs directly).
    var rules: [SplitRule] {
        switch self {
        case .gpt2, .llama3, .qwen2, .qwen35, .standard: return []
        case .starCoder: return Rules.starCoder
        case .falcon: return Rules.falcon
        case .deepSeekLLM: return Rules.deepSeekLLM
        case .deepSeekCoder: return Rules.deepSeekCoder
        case .deepSeekV3: return Rules.deepSeekV3
        case .spark: return Rules.spark
        case .youtu: return Rules.youtu
        case .jais2: return Rules.jais2
        case .tekken: return Rules.tekken
        case .gpt4o: return Rules.gpt4o
        case .graniteMultilingual: return Rules.graniteMultilingual
        case .tinyAya: return Rules.tinyAya
        case .kimiK2: return Rules.kimiK2
        case .superBPE: return Rules.superBPE
        case .bailingMoE: return Rules.bailingMoE
        case .seedCoder: return Rules.seedCoder
        case .ufakzeka: return Rules.ufakzeka
        case .afmoe: return Rules.afmoe
        case .laguna: return Rules.laguna
        case .exaoneMoE: return Rules.exaoneMoE
        case .miniCPM5: return Rules.miniCPM5
        case .bloom: return Rules.bloom
        case .viking: return Rules.viking
        case .chameleon: return Rules.chameleon
        case .lines: return Rules.lines
        }
    }

    /// Qwen 3.5's expression as rules (its scanner is hand-written; tests compare the two).
    static var qwen35Expression: [SplitRule] { Rules.qwen35 }

    /// The expressions of llama.cpp's pre-tokenizers, built once.
    private enum Rules {
        typealias A = PatternAtom
        typealias C = ScalarClass

        // MARK: Classes

        static let letter = C.letter
        static let number = C.number
        static let whitespace = C.whitespace
        static let newline = C.newline
        static let lettersAndMarks = C.letter.union(.mark)
        static let punctuationAndSymbols = C.punctuation.union(.symbol)
        /// `[^\r\n\p{L}\p{N}]`.
        static let notNewlineLetterOrNumber = C.newline.union(.letter).union(.number).complement
        /// `[^\s\p{L}\p{N}]`.
        static let notWhitespaceLetterOrNumber = C.whitespace.union(.letter).union(.number).complement
        /// `[\r\n/]`.
        static let newlineOrSlash = C(ascii: "\r\n/")
        /// Every printable ASCII scalar that is not a letter or digit.
        static let asciiPunctuation = C(ascii: "!-/:-@[-`{-~")
        static let asciiLetter = C(ascii: "A-Za-z")
        /// `[一-龥ࠀ-一가-퟿]`: CJK ideographs, the blocks from Samaritan to CJK, and Hangul.
        static let cjkAndHangul = ranges([0x4E00...0x9FA5, 0x0800...0x4E00, 0xAC00...0xD7FF])
        /// `[一-龥぀-ゟ゠-ヿ]`: CJK ideographs, hiragana and katakana.
        static let cjkAndKana = ranges([0x4E00...0x9FA5, 0x3040...0x309F, 0x30A0...0x30FF])
        /// The Han ideographs (llama.cpp's `unicode_cpt_is_han`).
        static let hanRanges: [ClosedRange<UInt32>] = [
            0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B820...0x2CEAF, 0x2CEB0...0x2EBEF, 0xF900...0xFAFF, 0x2F800...0x2FA1F,
        ]

        static func ranges(_ ranges: [ClosedRange<UInt32>]) -> C {
            var c = C()
            for range in ranges { c.insert(range) }
            return c
        }

        // MARK: Alternatives shared by many expressions

        /// `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`, one alternative each.
        static let contractions: [[A]] = ["sS", "tT", "rReE", "vVeE", "mM", "lLlL", "dD"].map { letters in
            let scalars = Array(letters)
            var atoms: [A] = [.one(C(ascii: "'"))]
            for i in stride(from: 0, to: scalars.count, by: 2) { atoms.append(.one(C(ascii: String(scalars[i...(i + 1)])))) }
            return atoms
        }
        /// `\s*[\r\n]+|\s+(?!\S)|\s+`.
        static let whitespaceRuns: [[A]] = [
            [.zeroOrMore(whitespace), .oneOrMore(newline)],
            [.oneOrMore(whitespace), .notBeforeNonWhitespace],
            [.oneOrMore(whitespace)],
        ]
        /// `\s+(?!\S)|\s+`.
        static let trailingWhitespace: [[A]] = Array(whitespaceRuns.dropFirst())
        /// ` ?[^\s\p{L}\p{N}]+[\r\n]*`.
        static let punctuationWithNewlines: [A] = [.optional(.space), .oneOrMore(notWhitespaceLetterOrNumber), .zeroOrMore(newline)]
        /// ` ?[^\s\p{L}\p{N}]+[\r\n/]*`.
        static let punctuationWithNewlinesOrSlashes: [A] = [.optional(.space), .oneOrMore(notWhitespaceLetterOrNumber), .zeroOrMore(newlineOrSlash)]

        /// Upper-then-lower case words as `[^\r\n\p{L}\p{N}]?U*W+|[^\r\n\p{L}\p{N}]?U+W*` where
        /// llama.cpp spells U as `(?=[\p{L}])([^a-z])` and W as `(?=[\p{L}])([^A-Z])`: a
        /// letter is U unless it is `a-z`, and W unless it is `A-Z`.
        static func casedWords(withMarks: Bool, contraction: Bool) -> [[A]] {
            var upper = C(ascii: "A-Z").union(.nonASCII(.letter))
            var lower = C(ascii: "a-z").union(.nonASCII(.letter))
            if withMarks {
                upper = upper.union(.mark)
                lower = lower.union(.mark)
            }
            let tail: [A] = contraction ? [.optionalContraction] : []
            return [
                [.optional(notNewlineLetterOrNumber), .zeroOrMore(upper), .oneOrMore(lower)] + tail,
                [.optional(notNewlineLetterOrNumber), .oneOrMore(upper), .zeroOrMore(lower)] + tail,
            ]
        }

        static func single(_ c: C) -> SplitRule { .single(c) }
        static func runs(_ c: C) -> SplitRule { .runs(c) }
        static func upTo3(_ c: C) -> SplitRule { .pattern(SplitPattern([[.repeated(c, minimum: 1, maximum: 3)]])) }

        // MARK: Pre-tokenizers

        static let starCoder: [SplitRule] = [single(number), .gpt2]

        static let falcon: [SplitRule] = [
            runs(C.punctuation.union(C(ascii: "$+<=>^~|`"))),
            .gpt2,
            .pattern(SplitPattern([[.repeated(.digit, minimum: 3, maximum: 3)]])),
        ]

        /// `[A-Za-zµÀ-ÖØ-öø-ƺ...]`: the cased letters of many alphabets.
        static let deepSeekLetter: C = {
            var c = C(ascii: "A-Za-z")
            let list: [ClosedRange<UInt32>] = [
                0xB5...0xB5, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x1BA, 0x1BC...0x1BF, 0x1C4...0x293, 0x295...0x2AF,
                0x370...0x373, 0x376...0x377, 0x37B...0x37D, 0x37F...0x37F, 0x386...0x386, 0x388...0x38A,
                0x38C...0x38C, 0x38E...0x3A1, 0x3A3...0x3F5, 0x3F7...0x481, 0x48A...0x52F, 0x531...0x556,
                0x10A0...0x10C5, 0x13A0...0x13F5, 0x13F8...0x13FD, 0x1C90...0x1CBA, 0x1CBD...0x1CBF,
                0x1D00...0x1D2B, 0x1D6B...0x1D77, 0x1D79...0x1D9A, 0x1E00...0x1F15, 0x1F18...0x1F1D,
                0x1F20...0x1F45, 0x1F48...0x1F4D, 0x1F50...0x1F57, 0x1F59...0x1F59, 0x1F5B...0x1F5B,
                0x1F5D...0x1F5D, 0x1F5F...0x1F7D, 0x1F80...0x1FB4, 0x1FB6...0x1FBC, 0x1FBE...0x1FBE,
                0x1FC2...0x1FC4, 0x1FC6...0x1FCC, 0x1FD0...0x1FD3, 0x1FD6...0x1FDB, 0x1FE0...0x1FEC,
                0x1FF2...0x1FF4, 0x1FF6...0x1FFC, 0x2102...0x2102, 0x2107...0x2107, 0x210A...0x2113,
                0x2115...0x2115, 0x2119...0x211D, 0x2124...0x2124, 0x2126...0x2126, 0x2128...0x2128,
                0x212A...0x212D, 0x212F...0x2134, 0x2139...0x2139, 0x213C...0x213F, 0x2145...0x2149,
                0x214E...0x214E, 0x2183...0x2184, 0x2C00...0x2C7B, 0x2C7E...0x2CE4, 0x2CEB...0x2CEE,
                0x2CF2...0x2CF3, 0xA640...0xA66D, 0xA680...0xA69B, 0xA722...0xA76F, 0xA771...0xA787,
                0xA78B...0xA78E, 0xAB70...0xABBF, 0xFB00...0xFB06, 0xFB13...0xFB17, 0xFF21...0xFF3A,
                0xFF41...0xFF5A, 0x10400...0x1044F, 0x104B0...0x104D3, 0x104D8...0x104FB, 0x10C80...0x10CB2,
                0x10CC0...0x10CF2, 0x118A0...0x118DF, 0x1E900...0x1E943,
            ]
            for range in list { c.insert(range) }
            return c
        }()

        static let deepSeekLLM: [SplitRule] = [
            single(newline),
            .pattern(SplitPattern([[.optional(whitespace), .oneOrMore(deepSeekLetter)]])),
            .pattern(SplitPattern([[.optional(whitespace), .oneOrMore(
                ranges([0x21...0x2F, 0x3A...0x7E, 0xFF01...0xFF0F, 0xFF1A...0xFF5E, 0x2018...0x201F, 0x3000...0x3002]))]])),
            .pattern(SplitPattern([[.oneOrMore(whitespace), .atEnd]])),
            runs(cjkAndHangul),
            runs(number),
        ]

        static let deepSeekCoder: [SplitRule] = [
            single(newline),
            .pattern(SplitPattern([[.optional(whitespace), .oneOrMore(letter)]])),
            .pattern(SplitPattern([[.optional(whitespace), .oneOrMore(C.punctuation)]])),
            runs(cjkAndHangul),
            single(number),
        ]

        /// `[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+`.
        static let deepSeekWords: [[A]] = [
            [.one(asciiPunctuation), .oneOrMore(asciiLetter)],
            [.optional(C.newline.union(.letter).union(.punctuation).union(.symbol).complement), .oneOrMore(lettersAndMarks)],
        ]

        static let deepSeekV3: [SplitRule] = [
            upTo3(number),
            runs(cjkAndKana),
            .pattern(SplitPattern(deepSeekWords + [
                [.optional(.space), .oneOrMore(punctuationAndSymbols), .zeroOrMore(newline)],
            ] + whitespaceRuns)),
        ]

        static let spark: [SplitRule] = [
            upTo3(number),
            runs(cjkAndKana),
            .pattern(SplitPattern(deepSeekWords + [
                [.optional(.space), .oneOrMore(punctuationAndSymbols)],
                [.one(newline)],
            ] + trailingWhitespace)),
            single(number),
        ]

        static let youtu: [SplitRule] = [
            .pattern(SplitPattern([
                [.oneOrMore(ranges([0xAC00...0xD7A3, 0x3131...0x318E]))],
                [.oneOrMore(C(characters: "！…“”‘’—：；，").union(ranges([0x3001...0x303F, 0xFE30...0xFE4F])))],
                [.oneOrMore(ranges([0x3105...0x312F]))],
                [.oneOrMore(cjkAndKana)],
            ])),
            // llama.cpp reads `\p{Lu}`, `\p{Ll}`, ... each as all letters, so both cased
            // alternatives come to letters-and-marks runs.
            .pattern(SplitPattern([
                [.optional(notNewlineLetterOrNumber), .oneOrMore(lettersAndMarks), .optionalContraction],
                [.one(number)],
                punctuationWithNewlinesOrSlashes,
            ] + whitespaceRuns)),
        ]

        static let qwen35: [SplitRule] = [
            .pattern(SplitPattern(contractions + [
                [.optional(notNewlineLetterOrNumber), .oneOrMore(lettersAndMarks)],
                [.one(number)],
                [.optional(.space), .oneOrMore(C.whitespace.union(.letter).union(.mark).union(.number).complement), .zeroOrMore(newline)],
            ] + whitespaceRuns)),
        ]

        static let jais2: [SplitRule] = [
            .pattern(SplitPattern(contractions + [
                [.optional(notNewlineLetterOrNumber), .oneOrMore(letter)],
                [.repeated(number, minimum: 1, maximum: 3)],
                punctuationWithNewlines,
                [.zeroOrMore(whitespace), .oneOrMore(newline)],
            ] + [512, 256, 128, 64, 32, 16, 8, 4].map { [.repeated(whitespace, minimum: $0, maximum: $0), .notBeforeNonWhitespace] } + [
                [.repeated(whitespace, minimum: 1, maximum: 2), .notBeforeNonWhitespace],
                [.one(whitespace)],
            ])),
        ]

        static let tekken: [SplitRule] = [
            .pattern(SplitPattern(casedWords(withMarks: false, contraction: false) + [
                [.one(number)],
                punctuationWithNewlinesOrSlashes,
            ] + whitespaceRuns)),
        ]

        static let gpt4o: [SplitRule] = [
            .pattern(SplitPattern(casedWords(withMarks: false, contraction: true) + [
                [.repeated(number, minimum: 1, maximum: 3)],
                punctuationWithNewlinesOrSlashes,
            ] + whitespaceRuns)),
        ]

        static let graniteMultilingual: [SplitRule] = [
            .pattern(SplitPattern(casedWords(withMarks: true, contraction: true) + [
                [.repeated(number, minimum: 1, maximum: 3)],
                punctuationWithNewlinesOrSlashes,
            ] + whitespaceRuns)),
        ]

        static let tinyAya: [SplitRule] = [
            .digitGroupsFromTheRight,
            .pattern(SplitPattern([
                [.optional(notNewlineLetterOrNumber), .oneOrMore(lettersAndMarks), .optionalContraction],
                [.repeated(number, minimum: 1, maximum: 3)],
                punctuationWithNewlinesOrSlashes,
            ] + whitespaceRuns)),
        ]

        static let kimiK2: [SplitRule] = [
            .pattern(SplitPattern([
                [.oneOrMore(ranges(hanRanges))],
                [.optional(notNewlineLetterOrNumber), .oneOrMore(letter.excluding(hanRanges)), .optionalContraction],
                [.repeated(number, minimum: 1, maximum: 3)],
                punctuationWithNewlines,
            ] + whitespaceRuns)),
        ]

        static let superBPE: [SplitRule] = [runs(number), .cutsBeforeDigitTriples]

        static let bailingMoE: [SplitRule] = [
            .pattern(SplitPattern([
                [.one(C(ascii: "'")), .one(C(ascii: "sSdDmMtT"))],
                [.one(C(ascii: "'")), .one(C(ascii: "lL")), .one(C(ascii: "lL"))],
                [.one(C(ascii: "'")), .one(C(ascii: "vV")), .one(C(ascii: "eE"))],
                [.one(C(ascii: "'")), .one(C(ascii: "rR")), .one(C(ascii: "eE"))],
                [.optional(notNewlineLetterOrNumber), .oneOrMore(letter)],
                [.one(number)],
                punctuationWithNewlines,
                [.zeroOrMore(whitespace), .one(newline)],
            ] + trailingWhitespace)),
        ]

        static let seedCoder: [SplitRule] = [
            .pattern(SplitPattern(contractions + [
                [.optional(notNewlineLetterOrNumber), .oneOrMore(letter)],
                [.one(number)],
                [.optional(.space), .oneOrMore(notWhitespaceLetterOrNumber)],
            ] + whitespaceRuns)),
        ]

        static let ufakzeka: [SplitRule] = [
            .pattern(SplitPattern([
                [.optional(notNewlineLetterOrNumber), .oneOrMore(letter)],
                [.one(number)],
                punctuationWithNewlines,
            ] + whitespaceRuns)),
        ]

        static let afmoe: [SplitRule] = [
            .leadingDigitGroups,
            runs(ranges([
                0x4E00...0x9FFF, 0x3400...0x4DBF, 0xF900...0xFAFF, 0x3040...0x309F, 0x30A0...0x30FF,
                0xFF65...0xFF9F, 0x2F00...0x2FDF, 0x0E00...0x0E7F, 0x0E80...0x0EFF, 0x1780...0x17FF,
                0x1000...0x109F, 0xAA60...0xAA7F, 0xA9E0...0xA9FF, 0xAC00...0xD7AF, 0x1100...0x11FF,
            ])),
            .pattern(SplitPattern(deepSeekWords + [
                [.optional(.space), .oneOrMore(punctuationAndSymbols), .zeroOrMore(newline)],
            ] + whitespaceRuns)),
        ]

        /// `[^\n]+|[\n]+`.
        static let lineRule: SplitRule = {
            let lineFeed = C(ascii: "\n")
            return .pattern(SplitPattern([[.oneOrMore(lineFeed.complement)], [.oneOrMore(lineFeed)]]))
        }()

        static let laguna: [SplitRule] = [lineRule, .llama3(maximumDigits: 1)]

        static let exaoneMoE: [SplitRule] = [
            .pattern(SplitPattern(contractions + [
                [.optional(notNewlineLetterOrNumber), .lettersWithMarksAndSingleSpaces],
                [.one(number)],
                [.optional(.space), .oneOrMore(notWhitespaceLetterOrNumber), .optional(newlineOrSlash)],
                [.zeroOrMore(whitespace), .one(newline)],
            ] + trailingWhitespace)),
        ]

        static let miniCPM5: [SplitRule] = [
            upTo3(number),
            .pattern(SplitPattern(contractions + [
                [.optional(notNewlineLetterOrNumber), .oneOrMore(letter)],
                [.oneOrMore(number)],
                punctuationWithNewlines,
            ] + whitespaceRuns)),
        ]

        /// ` ?[^(\s|.,!?…。，、।۔،)]+`.
        static let bloomRule: SplitRule = .pattern(SplitPattern([
            [.optional(.space), .oneOrMore(C(characters: "(|.,!?)…。，、।۔،").union(.whitespace).complement)],
        ]))

        static let bloom: [SplitRule] = [bloomRule]

        static let viking: [SplitRule] = [bloomRule, single(number)]

        static let chameleon: [SplitRule] = [
            .pattern(SplitPattern([A.literal("<sentinel:") + [.oneOrMore(.digit)] + A.literal(">")])),
            .pattern(SplitPattern([A.literal("IMGIMG") + [.repeated(C(ascii: "A-I"), minimum: 1, maximum: 4)] + A.literal("Z")])),
            .pattern(SplitPattern([[.one(C(ascii: "\t\n"))], A.literal("    "), A.literal("  ")])),
            single(number),
            single(C.punctuation.union(asciiPunctuation)),
            .gpt2,
        ]

        static let lines: [SplitRule] = [lineRule]
    }
}
