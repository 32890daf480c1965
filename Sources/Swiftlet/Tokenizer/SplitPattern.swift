/// One element of a `SplitPattern` alternative.
enum PatternAtom: Sendable {
    /// A scalar of the class, `minimum` to `maximum` times, greedy (giving back one at a
    /// time when what follows fails).
    case repeated(ScalarClass, minimum: Int, maximum: Int)
    /// `(?!\S)`: the next scalar is whitespace, or the piece ends.
    case notBeforeNonWhitespace
    /// `$`: the piece ends here.
    case atEnd
    /// `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?`, greedy.
    case optionalContraction
    /// `(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+`: letters with their marks, single spaces between
    /// them, greedy.
    case lettersWithMarksAndSingleSpaces

    /// `class` once.
    static func one(_ c: ScalarClass) -> PatternAtom { .repeated(c, minimum: 1, maximum: 1) }
    /// `class?`.
    static func optional(_ c: ScalarClass) -> PatternAtom { .repeated(c, minimum: 0, maximum: 1) }
    /// `class+`.
    static func oneOrMore(_ c: ScalarClass) -> PatternAtom { .repeated(c, minimum: 1, maximum: .max) }
    /// `class*`.
    static func zeroOrMore(_ c: ScalarClass) -> PatternAtom { .repeated(c, minimum: 0, maximum: .max) }
    /// The scalars of `text`, literally.
    static func literal(_ text: String) -> [PatternAtom] {
        text.unicodeScalars.map { .one(ScalarClass(characters: String($0))) }
    }
}

/// An alternation of sequences of `PatternAtom`s, matched as an ECMAScript regular
/// expression would be (llama.cpp runs its non-custom pre-tokenizer expressions through
/// `std::regex`): at a position the first alternative that matches wins, and within an
/// alternative greedy repetitions give back scalars until the rest matches.
struct SplitPattern: Sendable {
    let alternatives: [[PatternAtom]]

    init(_ alternatives: [[PatternAtom]]) {
        self.alternatives = alternatives
    }

    /// The end of the match that starts at `position` in a piece ending at `end`, or nil.
    func match(at position: Int, _ end: Int, _ scanner: PreTokenizer.Scanner) -> Int? {
        for alternative in alternatives {
            if let matchEnd = Self.match(alternative, 0, position, end, scanner) { return matchEnd }
        }
        return nil
    }

    private static func match(_ atoms: [PatternAtom], _ index: Int, _ position: Int, _ end: Int,
                              _ scanner: PreTokenizer.Scanner) -> Int? {
        if index == atoms.count { return position }
        switch atoms[index] {
        case .repeated(let scalarClass, let minimum, let maximum):
            var count = 0
            while count < maximum && position + count < end
                    && scalarClass.contains(scanner.scalars[position + count], scanner.flags(position + count, end)) {
                count += 1
            }
            if count < minimum { return nil }
            if index + 1 == atoms.count { return position + count }
            while count >= minimum {
                if let matchEnd = match(atoms, index + 1, position + count, end, scanner) { return matchEnd }
                count -= 1
            }
            return nil
        case .notBeforeNonWhitespace:
            guard position >= end || scanner.flags(position, end).contains(.whitespace) else { return nil }
            return match(atoms, index + 1, position, end, scanner)
        case .atEnd:
            return position == end ? match(atoms, index + 1, position, end, scanner) : nil
        case .optionalContraction:
            let length = position < end ? scanner.contractionLength(at: position, end, ignoringCase: true) : 0
            if length > 0, let matchEnd = match(atoms, index + 1, position + length, end, scanner) { return matchEnd }
            return match(atoms, index + 1, position, end, scanner)
        case .lettersWithMarksAndSingleSpaces:
            guard position < end, ScalarClass.letter.contains(scanner.scalars[position], scanner.flags(position, end)) else {
                return nil
            }
            var cursor = position + 1
            while true {
                while scanner.flags(cursor, end).contains(.mark) { cursor += 1 }
                if cursor < end && ScalarClass.letter.contains(scanner.scalars[cursor], scanner.flags(cursor, end)) {
                    cursor += 1
                } else if cursor + 1 < end && scanner.scalars[cursor] == 0x20
                            && ScalarClass.letter.contains(scanner.scalars[cursor + 1], scanner.flags(cursor + 1, end)) {
                    cursor += 2
                } else {
                    break
                }
            }
            return match(atoms, index + 1, cursor, end, scanner)
        }
    }
}

/// One pass of a pre-tokenizer: it cuts every piece of the previous pass into the spans
/// it matches and the stretches between them (as llama.cpp's `unicode_regex_split` does for
/// each of a pre-tokenizer's expressions in turn).
enum SplitRule: Sendable {
    /// llama.cpp's hand-written GPT-2 expression.
    case gpt2
    /// llama.cpp's hand-written Llama 3 expression, numbers cut every `maximumDigits`.
    case llama3(maximumDigits: Int)
    /// An expression.
    case pattern(SplitPattern)
    /// `[class]`: every member scalar is a piece of its own.
    case single(ScalarClass)
    /// `[class]+`: maximal runs of member scalars are pieces.
    case runs(ScalarClass)
    /// `\d{1,3}(?=(?:\d{3})*\b)`: ASCII digit runs followed by a word boundary, cut into
    /// groups of three from the right.
    case digitGroupsFromTheRight
    /// `(?=(\d{3})+(?!\d))`: cut before every group of three ASCII digits counted from the
    /// end of a digit run.
    case cutsBeforeDigitTriples
    /// AFMoE's hand-written digit rule: a number run is cut into groups of three from the
    /// right; the text before a run stays joined to the run's first group.
    case leadingDigitGroups

    /// Appends the ends of the pieces `scalars[start..<end]` is cut into.
    func apply(_ start: Int, _ end: Int, _ scanner: PreTokenizer.Scanner, _ ends: inout [Int32]) {
        switch self {
        case .gpt2:
            scanner.gpt2(start, end, &ends)
        case .llama3(let maximumDigits):
            scanner.llama3(start, end, maximumDigits: maximumDigits, &ends)
        case .pattern(let pattern):
            var position = start
            var pieceStart = start
            while position < end {
                if let matchEnd = pattern.match(at: position, end, scanner), matchEnd > position {
                    if position > pieceStart { ends.append(Int32(position)) }
                    ends.append(Int32(matchEnd))
                    position = matchEnd
                    pieceStart = matchEnd
                } else {
                    position += 1
                }
            }
            if end > pieceStart { ends.append(Int32(end)) }
        case .single(let scalarClass), .runs(let scalarClass):
            let isRuns: Bool
            if case .runs = self { isRuns = true } else { isRuns = false }
            var position = start
            var pieceStart = start
            while position < end {
                guard scalarClass.contains(scanner.scalars[position], scanner.flags(position, end)) else {
                    position += 1
                    continue
                }
                if position > pieceStart { ends.append(Int32(position)) }
                position += 1
                if isRuns {
                    while position < end && scalarClass.contains(scanner.scalars[position], scanner.flags(position, end)) { position += 1 }
                }
                ends.append(Int32(position))
                pieceStart = position
            }
            if end > pieceStart { ends.append(Int32(end)) }
        case .digitGroupsFromTheRight:
            func isDigit(_ i: Int) -> Bool { scanner.scalars[i] >= 0x30 && scanner.scalars[i] <= 0x39 }
            func isWord(_ i: Int) -> Bool {
                let c = scanner.scalars[i]
                return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
            }
            var position = start
            var pieceStart = start
            while position < end {
                guard isDigit(position) else { position += 1; continue }
                var runEnd = position
                while runEnd < end && isDigit(runEnd) { runEnd += 1 }
                if runEnd == end || !isWord(runEnd) {
                    if position > pieceStart { ends.append(Int32(position)) }
                    var cut = position + (runEnd - position - 1) % 3 + 1
                    ends.append(Int32(cut))
                    while cut < runEnd {
                        cut += 3
                        ends.append(Int32(cut))
                    }
                    pieceStart = runEnd
                }
                position = runEnd
            }
            if end > pieceStart { ends.append(Int32(end)) }
        case .cutsBeforeDigitTriples:
            func isDigit(_ i: Int) -> Bool { scanner.scalars[i] >= 0x30 && scanner.scalars[i] <= 0x39 }
            var position = start
            var pieceStart = start
            while position < end {
                guard isDigit(position) else { position += 1; continue }
                var runEnd = position
                while runEnd < end && isDigit(runEnd) { runEnd += 1 }
                var cut = position + (runEnd - position) % 3
                while cut < runEnd {
                    if cut > pieceStart { ends.append(Int32(cut)) }
                    pieceStart = cut
                    cut += 3
                }
                position = runEnd
            }
            if end > pieceStart { ends.append(Int32(end)) }
        case .leadingDigitGroups:
            var position = start
            var pieceStart = start
            func cut(_ at: Int) {
                if at > pieceStart { ends.append(Int32(at)) }
                pieceStart = at
            }
            while position < end {
                guard scanner.flags(position, end).contains(.number) else { position += 1; continue }
                let runStart = position
                while scanner.flags(position, end).contains(.number) { position += 1 }
                let remainder = (position - runStart) % 3
                var groupEnd = runStart
                if remainder > 0 {
                    groupEnd += remainder
                    cut(groupEnd)
                }
                while groupEnd < position {
                    groupEnd += 3
                    cut(groupEnd)
                }
            }
            cut(end)
        }
    }
}
