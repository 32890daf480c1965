/// Scratch buffers of one `Sampler`, allocated once for its vocabulary so that sampling a
/// token allocates nothing. A class so that `Sampler.distribution`, a non-mutating call,
/// can use it; copies of a sampler share it.
final class SamplerWorkspace {
    let vocabularySize: Int
    /// Penalised, sanitised logits (NaN -> -inf, +inf -> largest finite). (vocab)
    let adjusted: UnsafeMutableBufferPointer<Float>
    /// The distribution `Sampler.sample` draws from. (vocab)
    let probabilities: UnsafeMutableBufferPointer<Float>
    /// Candidate token ids; sorted prefixes hold the best candidates. (vocab)
    let order: UnsafeMutableBufferPointer<Int32>
    /// Occurrence counts for the penalties, all zero between calls. (vocab, or empty)
    let counts: UnsafeMutableBufferPointer<Int32>
    /// Distinct ids of the penalty window. (window, or empty)
    let touched: UnsafeMutableBufferPointer<Int32>

    init(vocabularySize: Int, penaltyWindow: Int) {
        self.vocabularySize = vocabularySize
        adjusted = .allocate(capacity: vocabularySize)
        adjusted.initialize(repeating: 0)
        probabilities = .allocate(capacity: vocabularySize)
        probabilities.initialize(repeating: 0)
        order = .allocate(capacity: vocabularySize)
        order.initialize(repeating: 0)
        let penaltyVocabulary = penaltyWindow > 0 ? vocabularySize : 0
        counts = .allocate(capacity: penaltyVocabulary)
        counts.initialize(repeating: 0)
        touched = .allocate(capacity: max(0, penaltyWindow))
        touched.initialize(repeating: 0)
    }

    deinit {
        adjusted.deallocate()
        probabilities.deallocate()
        order.deallocate()
        counts.deallocate()
        touched.deallocate()
    }

    /// True when token `a` ranks above token `b`: a larger adjusted logit, ties to the lower id.
    /// A strict total order, so every selection and sort below is deterministic.
    @inline(__always)
    func ranksAbove(_ a: Int32, _ b: Int32) -> Bool {
        let la = adjusted[Int(a)], lb = adjusted[Int(b)]
        return la > lb || (la == lb && a < b)
    }

    /// Puts the `m` best tokens of the whole vocabulary, best first, into `order[0..<m]`.
    /// A bounded min-heap: O(vocab) when most tokens lose to the heap's root at once,
    /// O(vocab · log m) at worst, plus O(m · log m) to sort the winners.
    func selectTop(_ m: Int) {
        precondition(m >= 1 && m <= vocabularySize)
        for i in 0..<m { order[i] = Int32(i) }
        // Min-heap on rank: the root is the worst of the current best m.
        var node = m / 2 - 1
        while node >= 0 {
            siftDown(node, count: m)
            node -= 1
        }
        var id = Int32(m)
        let end = Int32(vocabularySize)
        while id < end {
            if ranksAbove(id, order[0]) {
                order[0] = id
                siftDown(0, count: m)
            }
            id += 1
        }
        // Heap sort: moving the worst to the back leaves the best first.
        var size = m
        while size > 1 {
            size -= 1
            order.swapAt(0, size)
            siftDown(0, count: size)
        }
    }

    /// Restores the min-heap property (worst at the root) below `start` in `order[0..<count]`.
    @inline(__always)
    private func siftDown(_ start: Int, count: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            if left >= count { return }
            var worst = left
            let right = left + 1
            if right < count && ranksAbove(order[left], order[right]) { worst = right }
            if ranksAbove(order[parent], order[worst]) {
                order.swapAt(parent, worst)
                parent = worst
            } else {
                return
            }
        }
    }
}
