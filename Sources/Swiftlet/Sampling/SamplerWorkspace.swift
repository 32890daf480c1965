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
    /// Temperature-1 mass per logit bucket (see `LogitBuckets`). (LogitBuckets.count + 1)
    let bucketMass: UnsafeMutableBufferPointer<Double>
    /// Tokens per logit bucket. (LogitBuckets.count + 1)
    let bucketTokens: UnsafeMutableBufferPointer<Int32>

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
        bucketMass = .allocate(capacity: LogitBuckets.count + 1)
        bucketMass.initialize(repeating: 0)
        bucketTokens = .allocate(capacity: LogitBuckets.count + 1)
        bucketTokens.initialize(repeating: 0)
    }

    deinit {
        adjusted.deallocate()
        probabilities.deallocate()
        order.deallocate()
        counts.deallocate()
        touched.deallocate()
        bucketMass.deallocate()
        bucketTokens.deallocate()
    }

    /// True when token `a` ranks above token `b`: a larger adjusted logit, ties to the lower id.
    /// A strict total order, so every selection and sort below is deterministic.
    @inline(__always)
    func ranksAbove(_ a: Int32, _ b: Int32) -> Bool {
        let la = adjusted[Int(a)], lb = adjusted[Int(b)]
        return la > lb || (la == lb && a < b)
    }

    /// Puts the `m` best tokens of the whole vocabulary, best first, into `order[0..<m]`.
    /// A bounded min-heap whose root (the worst of the best m so far) is compared with 16
    /// logits at a time: O(vocab) when most tokens lose to the root, O(vocab · log m) at
    /// worst, plus O(m · log m) to sort the winners.
    func selectTop(_ m: Int) {
        precondition(m >= 1 && m <= vocabularySize)
        for i in 0..<m { order[i] = Int32(i) }
        var node = m / 2 - 1
        while node >= 0 {
            siftDown(node, base: 0, count: m)
            node -= 1
        }
        // Later ids lose ties to every id in the heap, so only a strictly larger logit enters.
        let logits = UnsafePointer(adjusted.baseAddress!)
        var root = logits[Int(order[0])]
        var roots = SamplingKernels.Vector(repeating: root)
        var id = m
        let width = SamplingKernels.width
        while id < vocabularySize {
            if id + width <= vocabularySize {
                if !SamplingKernels.anyLane(SamplingKernels.load(logits, id) .> roots) {
                    id += width
                    continue
                }
                for j in id..<(id + width) where logits[j] > root {
                    order[0] = Int32(j)
                    siftDown(0, base: 0, count: m)
                    root = logits[Int(order[0])]
                }
                roots = SamplingKernels.Vector(repeating: root)
                id += width
            } else {
                if logits[id] > root {
                    order[0] = Int32(id)
                    siftDown(0, base: 0, count: m)
                    root = logits[Int(order[0])]
                }
                id += 1
            }
        }
        sortHeap(base: 0, count: m)
    }

    /// Sorts `order[start..<end]` best first (heap sort: in place, no allocation).
    func sort(_ start: Int, _ end: Int) {
        let count = end - start
        guard count > 1 else { return }
        var node = count / 2 - 1
        while node >= 0 {
            siftDown(node, base: start, count: count)
            node -= 1
        }
        sortHeap(base: start, count: count)
    }

    /// Turns the min-heap `order[base..<base+count]` into a best-first sorted run.
    private func sortHeap(base: Int, count: Int) {
        var size = count
        while size > 1 {
            size -= 1
            order.swapAt(base, base + size)
            siftDown(0, base: base, count: size)
        }
    }

    /// Restores the min-heap property (worst at the root) below `start` in the heap stored
    /// at `order[base..<base+count]`.
    @inline(__always)
    private func siftDown(_ start: Int, base: Int, count: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            if left >= count { return }
            var worst = left
            let right = left + 1
            if right < count && ranksAbove(order[base + left], order[base + right]) { worst = right }
            if ranksAbove(order[base + parent], order[base + worst]) {
                order.swapAt(base + parent, base + worst)
                parent = worst
            } else {
                return
            }
        }
    }
}
