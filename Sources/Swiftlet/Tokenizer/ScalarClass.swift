/// A set of Unicode scalars as one pre-tokenizer expression's bracket class sees them in
/// llama.cpp: ASCII scalars by value, other scalars by their general category (`\p{L}`,
/// `\p{N}`, ... stand for a whole category) or by code point ranges (`[一-龥]`). A non-ASCII
/// whitespace scalar counts as ASCII vertical tab (llama.cpp replaces it so that `\s`
/// matches it), so it is a member exactly when `\v` is.
struct ScalarClass: Sendable {
    /// Membership of the ASCII scalars 0..<64 and 64..<128, one bit each.
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    /// Categories whose non-ASCII, non-whitespace scalars are members.
    private var categories: CodepointFlags = []
    /// Non-ASCII code point ranges that are members.
    private var ranges: [ClosedRange<UInt32>] = []
    /// Non-ASCII code point ranges that are never members (before inversion).
    private var excluded: [ClosedRange<UInt32>] = []
    /// The non-ASCII part is inverted (`[^...]`); the ASCII bits are stored inverted already.
    private var inverted = false

    /// The empty class.
    init() {}

    /// The ASCII scalars of `characters`, where `a-z` stands for a range.
    init(ascii characters: String) {
        let scalars = Array(characters.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if i + 2 < scalars.count && scalars[i + 1] == "-" {
                for value in scalars[i].value...scalars[i + 2].value { insertASCII(value) }
                i += 3
            } else {
                insertASCII(scalars[i].value)
                i += 1
            }
        }
    }

    /// The scalars of `characters` (any scalars), where `a-z` stands for a range.
    init(characters: String) {
        let scalars = Array(characters.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let range: ClosedRange<UInt32>
            if i + 2 < scalars.count && scalars[i + 1] == "-" {
                range = scalars[i].value...scalars[i + 2].value
                i += 3
            } else {
                range = scalars[i].value...scalars[i].value
                i += 1
            }
            insert(range)
        }
    }

    private mutating func insertASCII(_ value: UInt32) {
        precondition(value < 128)
        if value < 64 { low |= 1 << UInt64(value) } else { high |= 1 << UInt64(value - 64) }
    }

    /// Adds the code points of `range` (ASCII ones by value).
    mutating func insert(_ range: ClosedRange<UInt32>) {
        if range.lowerBound < 128 {
            for value in range.lowerBound...min(range.upperBound, 127) { insertASCII(value) }
        }
        if range.upperBound >= 128 { ranges.append(max(range.lowerBound, 128)...range.upperBound) }
    }

    /// Members of either class (neither may be inverted).
    func union(_ other: ScalarClass) -> ScalarClass {
        precondition(!inverted && !other.inverted)
        var result = self
        result.low |= other.low
        result.high |= other.high
        result.categories.formUnion(other.categories)
        result.ranges += other.ranges
        result.excluded += other.excluded
        return result
    }

    /// Members of this class outside the non-ASCII `ranges`.
    func excluding(_ ranges: [ClosedRange<UInt32>]) -> ScalarClass {
        var result = self
        result.excluded += ranges
        return result
    }

    /// The complement (`[^...]`).
    var complement: ScalarClass {
        var result = self
        result.low = ~low
        result.high = ~high
        result.inverted.toggle()
        return result
    }

    /// Whether the scalar `c`, whose flags are `f`, is a member.
    @inline(__always)
    func contains(_ c: UInt32, _ f: CodepointFlags) -> Bool {
        if c < 64 { return low & (1 << UInt64(c)) != 0 }
        if c < 128 { return high & (1 << UInt64(c - 64)) != 0 }
        if f.contains(.whitespace) { return low & (1 << 0x0B) != 0 }
        var member = !categories.isDisjoint(with: f)
        if !member && !ranges.isEmpty {
            for range in ranges where range.contains(c) {
                member = true
                break
            }
        }
        if member && !excluded.isEmpty {
            for range in excluded where range.contains(c) {
                member = false
                break
            }
        }
        return member != inverted
    }

    /// The non-ASCII, non-whitespace scalars of the categories in `flags` (`\p{L}` without
    /// `A-Za-z`).
    static func nonASCII(_ flags: CodepointFlags) -> ScalarClass {
        var c = ScalarClass()
        c.categories = flags
        return c
    }

    // MARK: - The classes expressions use

    /// `\p{L}`: ASCII letters and every letter.
    static let letter: ScalarClass = {
        var c = ScalarClass(ascii: "A-Za-z")
        c.categories = .letter
        return c
    }()
    /// `\p{N}`: ASCII digits and every number.
    static let number: ScalarClass = {
        var c = ScalarClass(ascii: "0-9")
        c.categories = .number
        return c
    }()
    /// `\p{P}`: ASCII punctuation (not `$+<=>^`|~`) and every punctuation mark.
    static let punctuation: ScalarClass = {
        var c = ScalarClass(ascii: "!-#%-*,-/:;?@[-]_{}")
        c.categories = .punctuation
        return c
    }()
    /// `\p{S}`: the ASCII symbols llama.cpp lists (`$+<=>^`|`, not `~`) and every symbol.
    static let symbol: ScalarClass = {
        var c = ScalarClass(ascii: "$+<=>^`|")
        c.categories = .symbol
        return c
    }()
    /// `\p{M}`: every mark (none is ASCII).
    static let mark: ScalarClass = {
        var c = ScalarClass()
        c.categories = .mark
        return c
    }()
    /// `\s`: ASCII whitespace, and so every whitespace scalar.
    static let whitespace = ScalarClass(ascii: "\t\n\u{0B}\u{0C}\r ")
    /// `[\r\n]`.
    static let newline = ScalarClass(ascii: "\r\n")
    /// `[0-9]` (`\d`).
    static let digit = ScalarClass(ascii: "0-9")
    /// A literal space.
    static let space = ScalarClass(ascii: " ")
    /// Every scalar.
    static let any = ScalarClass().complement
}
