/// Tokens of pieces of text already tokenized during one `encode` call, keyed by the
/// piece's bytes. A piece's tokens depend on nothing but its bytes, so reusing them is exact;
/// words repeat often in real text, and a lookup costs far less than merging again.
/// Bounded: past `capacity` pieces nothing more is added.
struct TokenCache {
    private var keys = ByteStringTable(capacity: 1024)
    /// `tokens[tokenOffsets[i] ..< tokenOffsets[i + 1]]` are the tokens of piece `i`.
    private var tokens: [Int32] = []
    private var tokenOffsets: [Int32] = [0]
    let capacity: Int

    init(capacity: Int = 1 << 16) {
        self.capacity = capacity
    }

    /// Appends the cached tokens of `piece` to `output`; false when it is not cached.
    @inline(__always)
    func appendTokens(of piece: UnsafeRawBufferPointer, to output: inout [Int32]) -> Bool {
        guard let index = keys.index(of: piece) else { return false }
        output.append(contentsOf: tokens[Int(tokenOffsets[index])..<Int(tokenOffsets[index + 1])])
        return true
    }

    /// Remembers that `piece` gives `pieceTokens`.
    mutating func insert(_ piece: UnsafeRawBufferPointer, tokens pieceTokens: ArraySlice<Int32>) {
        guard keys.count < capacity else { return }
        keys.append(piece)
        tokens.append(contentsOf: pieceTokens)
        tokenOffsets.append(Int32(tokens.count))
    }
}
