extension BPEMergeTable {
    /// The merge table of `tokenizer.ggml.merges` lines ("left right", best first) over the
    /// symbols of `vocabulary`, and the strings merges name that are not tokens (symbol
    /// `vocabulary.count + i` is string `i` of `extraSymbols`).
    /// - Throws: `ModelFileError.malformed` for a line without a space between two halves.
    static func build(merges: [String], vocabulary: Vocabulary) throws -> (table: BPEMergeTable, extraSymbols: ByteStringTable) {
        // Each merge names at most three new symbols; all must have 32-bit ids.
        guard merges.count <= (Int(Int32.max) - 1 - vocabulary.count) / 3 else {
            throw ModelFileError.malformed("tokenizer has \(merges.count) merges, more than 32-bit symbol ids can number")
        }
        var extra = ByteStringTable(capacity: 16)
        func symbol(_ bytes: UnsafeRawBufferPointer) -> Int32 {
            if let id = vocabulary.tokenID(bytes) { return id }
            if let index = extra.index(of: bytes) { return Int32(vocabulary.count + index) }
            return Int32(vocabulary.count + extra.append(bytes))
        }
        var table = BPEMergeTable(capacity: merges.count)
        var joined: [UInt8] = []
        for (rank, line) in merges.enumerated() {
            var line = line
            try line.withUTF8 { bytes in
                // The halves are split at the first space after the first byte, as llama.cpp does.
                guard bytes.count >= 3, let space = bytes[1...].firstIndex(of: UInt8(ascii: " ")) else {
                    throw ModelFileError.malformed("tokenizer merge \(rank) \"\(String(decoding: bytes, as: UTF8.self))\" is not two symbols separated by a space")
                }
                let raw = UnsafeRawBufferPointer(bytes)
                let left = UnsafeRawBufferPointer(rebasing: raw[..<space])
                let right = UnsafeRawBufferPointer(rebasing: raw[(space + 1)...])
                let leftSymbol = symbol(left), rightSymbol = symbol(right)
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: left)
                joined.append(contentsOf: right)
                let result = joined.withUnsafeBytes { symbol($0) }
                table.insert(left: leftSymbol, right: rightSymbol, merge: .init(rank: Int32(rank), result: result))
            }
        }
        return (table, extra)
    }
}
