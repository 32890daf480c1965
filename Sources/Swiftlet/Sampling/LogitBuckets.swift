/// A histogram of a sampler's adjusted logits by distance below the maximum: `count` equal
/// buckets over `[max - spread, max]` (spread = the finite logit range, at most 32, where
/// e^-32 ≈ 1e-14), plus a last bucket for everything lower. Each bucket holds its token count
/// and temperature-1 mass `Σ exp(logit - max)`.
///
/// A best-first prefix of the ranking (top-k, top-p) ends inside one bucket found by walking
/// the counts or masses; only that bucket's tokens need sorting. That replaces sorting the
/// vocabulary (O(V log V)) with two vectorised passes and a small sort.
struct LogitBuckets {
    static let count = 1024
    let workspace: SamplerWorkspace
    let maxLogit: Float
    /// Buckets per logit unit.
    let perUnit: Float
    /// Σ of all bucket masses.
    let totalMass: Double

    /// Fills the workspace's bucket arrays from its adjusted (sanitised) logits.
    init(workspace: SamplerWorkspace, maxLogit: Float) {
        self.workspace = workspace
        self.maxLogit = maxLogit
        var spread = min(32, maxLogit - SamplingKernels.minFinite(workspace.adjusted))
        if !(spread > 0) { spread = 1 }
        perUnit = Float(Self.count) / spread
        let mass = workspace.bucketMass, tokens = workspace.bucketTokens
        mass.update(repeating: 0)
        tokens.update(repeating: 0)

        let logits = UnsafePointer(workspace.adjusted.baseAddress!)
        let vocabulary = workspace.vocabularySize
        let width = SamplingKernels.width
        let maxes = SamplingKernels.Vector(repeating: maxLogit), perUnits = SamplingKernels.Vector(repeating: perUnit)
        let limits = SamplingKernels.Vector(repeating: Float(Self.count))
        var i = 0
        while i + width <= vocabulary {
            let x = SamplingKernels.load(logits, i)
            let e = SamplingKernels.exp(x - maxes)
            let d = ((maxes - x) * perUnits).replacing(with: limits, where: (maxes - x) * perUnits .> limits)
            for lane in 0..<width {
                let b = Int(d[lane])
                mass[b] += Double(e[lane])
                tokens[b] += 1
            }
            i += width
        }
        while i < vocabulary {
            let d = (maxLogit - logits[i]) * perUnit
            let b = d < Float(Self.count) ? Int(d) : Self.count  // as `bucket(of:)`
            mass[b] += Double(SamplingKernels.exp(logits[i] - maxLogit))
            tokens[b] += 1
            i += 1
        }
        var total = 0.0
        for b in 0...Self.count { total += mass[b] }
        totalMass = total
    }

    /// The bucket of `logit` (0 holds the maximum; `count` the rest).
    @inline(__always)
    func bucket(of logit: Float) -> Int {
        let d = (maxLogit - logit) * perUnit
        return d < Float(Self.count) ? Int(d) : Self.count
    }

    /// Writes the ids of bucket `b` into `workspace.order[0..<n]`, best first; returns n.
    func gather(_ b: Int) -> Int {
        let logits = UnsafePointer(workspace.adjusted.baseAddress!)
        let order = workspace.order
        let vocabulary = workspace.vocabularySize
        let width = SamplingKernels.width
        // Bucket b < count is Float(b) <= d < Float(b + 1), i.e. Int(d) == b as in `bucket(of:)`;
        // chunks without such a lane are skipped. The rest bucket is scanned token by token.
        let low = SamplingKernels.Vector(repeating: Float(b))
        let high = SamplingKernels.Vector(repeating: Float(b + 1))
        let maxes = SamplingKernels.Vector(repeating: maxLogit), perUnits = SamplingKernels.Vector(repeating: perUnit)
        var n = 0
        var i = 0
        while i < vocabulary {
            if i + width <= vocabulary && b < Self.count {
                let d = (maxes - SamplingKernels.load(logits, i)) * perUnits
                if !SamplingKernels.anyLane((d .>= low) .& (d .< high)) {
                    i += width
                    continue
                }
            }
            let end = min(i + width, vocabulary)
            for j in i..<end where bucket(of: logits[j]) == b {
                order[n] = Int32(j)
                n += 1
            }
            i = end
        }
        workspace.sort(0, n)
        return n
    }
}
