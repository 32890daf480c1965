/// Drafts without a model (prompt lookup decoding): finds the most recent earlier
/// occurrence of the request's last n tokens (n from `maxNgram` down to `minNgram`) in its
/// prompt and output so far, and proposes the tokens that followed it.
public final class PromptLookupDrafter: Drafter {
    public let maxNgram: Int
    public let minNgram: Int

    public init(maxNgram: Int = 3, minNgram: Int = 1) {
        self.maxNgram = max(1, maxNgram)
        self.minNgram = max(1, min(minNgram, maxNgram))
    }

    public func propose(_ requests: [DraftRequest]) -> [DraftProposal] {
        requests.map { DraftProposal(tokens: lookup($0.tokens, count: $0.count)) }
    }

    func lookup(_ tokens: [Int32], count: Int) -> [Int32] {
        guard count > 0 else { return [] }
        for n in stride(from: min(maxNgram, tokens.count - 1), through: minNgram, by: -1) {
            let tail = tokens[(tokens.count - n)...]
            var start = tokens.count - n - 1
            while start >= 0 {
                if tokens[start..<(start + n)].elementsEqual(tail) {
                    let from = start + n
                    return Array(tokens[from..<min(tokens.count, from + count)])
                }
                start -= 1
            }
        }
        return []
    }

    public func rollback(id: Int, to length: Int) {}
    public func finish(id: Int) {}
}
