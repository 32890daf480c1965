extension Vocabulary {
    /// The frame every BPE tokenizer's `encode` shares: BOS where the vocabulary asks for
    /// it, special-token fragments as their ids, each text fragment through `tokenizeText`
    /// (its UTF-8 bytes, appending ids to the output), then EOS where asked.
    func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool,
                tokenizeText: (UnsafeRawBufferPointer, inout [Int32]) -> Void) -> [Int32] {
        var text = text
        return text.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            var output: [Int32] = []
            output.reserveCapacity(raw.count / 3 + 2)
            if addSpecialTokens && addsBOS, let bos = specialTokens.bos {
                output.append(bos)
            }
            for fragment in fragments(of: raw, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id):
                    output.append(id)
                case .text(let range):
                    tokenizeText(UnsafeRawBufferPointer(rebasing: raw[range]), &output)
                }
            }
            if addSpecialTokens && addsEOS, let eos = specialTokens.eos {
                output.append(eos)
            }
            return output
        }
    }
}
