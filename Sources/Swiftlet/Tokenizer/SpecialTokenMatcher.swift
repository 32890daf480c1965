/// Finds special-token texts in an input in time linear in the input, whatever the number
/// of special tokens: an Aho-Corasick automaton over the tokens' texts reversed, run from
/// the input's end to its start, gives at every position the longest special token that
/// starts there. Taking those matches from left to right (leftmost, then longest, as
/// Hugging Face's added-token splitter does) cuts the input into text and tokens.
///
/// Two kinds of match are kept apart: any special token (`parseSpecial`), and only the
/// ones plain text may produce (user-defined tokens, not control or unknown ones). Among
/// tokens with the same text the lowest id wins.
struct SpecialTokenMatcher: Sendable {
    /// The best match ending a path: a token id and its text's length in bytes.
    struct Match: Sendable, Equatable {
        var id: Int32
        var length: Int32
        static let none = Match(id: -1, length: 0)
    }

    /// `(nodes)`: failure link of each node (the node of its longest proper suffix).
    private var failure: [Int32] = [0]
    /// `(nodes)`: node depth (bytes from the root).
    private var depth: [Int32] = [0]
    /// `(nodes)`: the longest special token of any kind among the node's suffixes.
    private var bestAny: [Match] = [.none]
    /// `(nodes)`: the longest user-defined (plain-text) token among the node's suffixes.
    private var bestPlain: [Match] = [.none]
    /// `(256)`: the root's children; 0 = none.
    private var rootChildren = [Int32](repeating: 0, count: 256)
    /// Children of other nodes, keyed by `node << 8 | byte`.
    private var children: [Int: Int32] = [:]

    /// Whether there is no special token at all.
    private(set) var isEmpty = true

    /// An automaton over `tokens`: each a token id, its text, and whether plain text may
    /// produce it (user-defined) or only `parseSpecial` input (control, unknown).
    init<S: Sequence>(tokens: S) where S.Element == (id: Int32, text: ArraySlice<UInt8>, isPlain: Bool) {
        for token in tokens where !token.text.isEmpty {
            isEmpty = false
            var node: Int32 = 0
            for byte in token.text.reversed() {
                if let next = child(of: node, byte) {
                    node = next
                    continue
                }
                let created = Int32(failure.count)
                failure.append(0)
                depth.append(depth[Int(node)] + 1)
                bestAny.append(.none)
                bestPlain.append(.none)
                if node == 0 { rootChildren[Int(byte)] = created } else { children[Int(node) << 8 | Int(byte)] = created }
                node = created
            }
            let match = Match(id: token.id, length: Int32(token.text.count))
            let index = Int(node)
            if bestAny[index] == .none || token.id < bestAny[index].id { bestAny[index] = match }
            if token.isPlain && (bestPlain[index] == .none || token.id < bestPlain[index].id) { bestPlain[index] = match }
        }
        guard !isEmpty else { return }
        linkFailures()
    }

    @inline(__always)
    private func child(of node: Int32, _ byte: UInt8) -> Int32? {
        if node == 0 {
            let next = rootChildren[Int(byte)]
            return next == 0 ? nil : next
        }
        return children[Int(node) << 8 | Int(byte)]
    }

    /// The automaton's transition: the node for `node`'s string followed by `byte`.
    @inline(__always)
    private func step(_ node: Int32, _ byte: UInt8) -> Int32 {
        var current = node
        while true {
            if let next = child(of: current, byte) { return next }
            if current == 0 { return 0 }
            current = failure[Int(current)]
        }
    }

    /// Failure links and inherited best matches, breadth first (parents before children).
    private mutating func linkFailures() {
        // Children lists per node, so the breadth-first walk needs no scan of the dictionary.
        var childLists = [[(UInt8, Int32)]](repeating: [], count: failure.count)
        for byte in 0..<256 where rootChildren[byte] != 0 { childLists[0].append((UInt8(byte), rootChildren[byte])) }
        for (key, node) in children { childLists[key >> 8].append((UInt8(key & 0xFF), node)) }
        var queue: [Int32] = [0]
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for (byte, next) in childLists[Int(node)] {
                let link: Int32 = node == 0 ? 0 : step(failure[Int(node)], byte)
                failure[Int(next)] = link
                // A node's own token is longer than any on its failure chain.
                if bestAny[Int(next)] == .none { bestAny[Int(next)] = bestAny[Int(link)] }
                if bestPlain[Int(next)] == .none { bestPlain[Int(next)] = bestPlain[Int(link)] }
                queue.append(next)
            }
        }
    }

    /// Text fragments longer than this are cut at a character boundary: the tokenizers
    /// number positions inside a fragment with 32-bit offsets.
    static let maxTextFragmentBytes = 1 << 28

    /// The input cut into text ranges and special tokens: leftmost match first, the longest
    /// one at its position. With `parseSpecial` false only plain-text (user-defined) tokens
    /// match. No text range is longer than `maxTextBytes`.
    func fragments(of text: UnsafeRawBufferPointer, parseSpecial: Bool,
                   maxTextBytes: Int = maxTextFragmentBytes) -> [TextFragment] {
        let fragments = matches(in: text, parseSpecial: parseSpecial)
        guard text.count > maxTextBytes else { return fragments }
        var result: [TextFragment] = []
        for fragment in fragments {
            guard case .text(let range) = fragment, range.count > maxTextBytes else {
                result.append(fragment)
                continue
            }
            var start = range.lowerBound
            while range.upperBound - start > maxTextBytes {
                // Back up to the first byte of a UTF-8 sequence (at most three steps).
                var end = start + maxTextBytes
                while end > start + 1 && text[end] & 0xC0 == 0x80 { end -= 1 }
                result.append(.text(start..<end))
                start = end
            }
            result.append(.text(start..<range.upperBound))
        }
        return result
    }

    private func matches(in text: UnsafeRawBufferPointer, parseSpecial: Bool) -> [TextFragment] {
        let count = text.count
        guard count > 0 else { return [] }
        guard !isEmpty else { return [.text(0..<count)] }
        // `(count)`: id of the longest token starting at each position, or -1.
        var starting = [Int32](repeating: -1, count: count)
        var lengths = [Int32](repeating: 0, count: count)
        var anyMatch = false
        bestAny.withUnsafeBufferPointer { bestAny in
            bestPlain.withUnsafeBufferPointer { bestPlain in
                let best = parseSpecial ? bestAny : bestPlain
                var node: Int32 = 0
                var position = count - 1
                while position >= 0 {
                    node = step(node, text[position])
                    let match = best[Int(node)]
                    if match.id >= 0 {
                        starting[position] = match.id
                        lengths[position] = match.length
                        anyMatch = true
                    }
                    position -= 1
                }
            }
        }
        guard anyMatch else { return [.text(0..<count)] }
        var fragments: [TextFragment] = []
        var textStart = 0
        var position = 0
        while position < count {
            let id = starting[position]
            if id < 0 {
                position += 1
                continue
            }
            if position > textStart { fragments.append(.text(textStart..<position)) }
            fragments.append(.token(id))
            position += Int(lengths[position])
            textStart = position
        }
        if textStart < count { fragments.append(.text(textStart..<count)) }
        return fragments
    }
}
