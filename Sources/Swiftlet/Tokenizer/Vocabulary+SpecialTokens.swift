#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A piece of the input after special tokens are cut out: raw text (a byte range of the
/// input) or one special token.
enum TextFragment: Equatable {
    case text(Range<Int>)
    case token(Int32)
}

extension Vocabulary {
    /// Cuts the texts of special tokens out of `text` (llama.cpp's `tokenizer_st_partition`):
    /// tokens are taken longest first, each cut at every occurrence in the text fragments
    /// left by the longer ones. Control and unknown tokens are cut only with `parseSpecial`;
    /// user-defined tokens always.
    func fragments(of text: UnsafeRawBufferPointer, parseSpecial: Bool) -> [TextFragment] {
        guard text.count > 0 else { return [] }
        var fragments: [TextFragment] = [.text(0..<text.count)]
        for id in specialTokensByLength {
            if !parseSpecial && !attributes[Int(id)].isDisjoint(with: TokenAttributes.hiddenUnlessRendered) {
                continue
            }
            let needle = texts.bytes(at: Int(id))
            guard !needle.isEmpty else { continue }
            var next: [TextFragment] = []
            var changed = false
            needle.withUnsafeBytes { needle in
                for fragment in fragments {
                    guard case .text(let range) = fragment else {
                        next.append(fragment)
                        continue
                    }
                    var start = range.lowerBound
                    while start < range.upperBound,
                          let found = Self.firstOccurrence(of: needle, in: text, from: start, to: range.upperBound) {
                        if found > start { next.append(.text(start..<found)) }
                        next.append(.token(id))
                        start = found + needle.count
                        changed = true
                    }
                    if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
                }
            }
            if changed { fragments = next }
        }
        return fragments
    }

    /// The offset of the first occurrence of `needle` in `haystack[from..<to]`, or nil.
    private static func firstOccurrence(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer,
                                        from: Int, to: Int) -> Int? {
        guard to - from >= needle.count, let base = haystack.baseAddress, let first = needle.first else { return nil }
        let rest = needle.count - 1
        var position = from
        let lastStart = to - needle.count
        while position <= lastStart {
            // memchr finds the candidate's first byte; memcmp checks the rest.
            guard let hit = memchr(base + position, Int32(first), lastStart - position + 1) else { return nil }
            let candidate = UnsafeRawPointer(hit) - base
            if rest == 0 || memcmp(base + candidate + 1, needle.baseAddress! + 1, rest) == 0 { return candidate }
            position = candidate + 1
        }
        return nil
    }
}
