/// SIMD loops over vocabulary-sized buffers used by `Sampler` (16 floats per step, scalar tails).
enum SamplingKernels {
    typealias Vector = SIMD16<Float>
    static let width = Vector.scalarCount

    @inline(__always)
    static func load(_ base: UnsafePointer<Float>, _ i: Int) -> Vector {
        UnsafeRawPointer(base + i).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ base: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(base + i).storeBytes(of: v, as: Vector.self)
    }

    /// True when any lane of `mask` is set (a halving OR-reduction: the standard library's
    /// `any` is an out-of-line call).
    @_transparent
    static func anyLane(_ mask: SIMDMask<SIMD16<Int32>>) -> Bool {
        let v = unsafeBitCast(mask, to: SIMD16<Int32>.self)
        let a = v.lowHalf | v.highHalf
        let b = a.lowHalf | a.highHalf
        let c = b.lowHalf | b.highHalf
        return (c[0] | c[1]) != 0
    }

    /// The sum of the lanes (`VectorOps.laneSum`).
    @_transparent
    static func laneSum(_ v: Vector) -> Float {
        VectorOps.laneSum(v)
    }

    /// e^x per lane (`VectorOps.exp`).
    @_transparent
    static func exp(_ x: Vector) -> Vector {
        VectorOps.exp(x)
    }

    /// Scalar e^x with the same formula as the vector one.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        exp(Vector(repeating: x))[0]
    }

    /// Maps NaN to -infinity and +infinity to the largest finite float in place; returns the
    /// largest value (-infinity for an empty or all -infinity buffer).
    static func sanitizeAndMax(_ buffer: UnsafeMutableBufferPointer<Float>) -> Float {
        guard let base = buffer.baseAddress else { return -.infinity }
        let count = buffer.count
        var best = Vector(repeating: -.infinity)
        var i = 0
        while i + width <= count {
            var v = load(base, i)
            let bad = .!(v .< .infinity)  // NaN or +infinity
            if anyLane(bad) {
                v = v.replacing(with: .greatestFiniteMagnitude, where: v .== .infinity)
                v = v.replacing(with: -.infinity, where: v .!= v)
                store(v, base, i)
            }
            best = best.replacing(with: v, where: v .> best)
            i += width
        }
        var result = best.max()
        while i < count {
            var x = base[i]
            if !(x < .infinity) {
                x = x.isNaN ? -.infinity : .greatestFiniteMagnitude
                base[i] = x
            }
            if x > result { result = x }
            i += 1
        }
        return result
    }

    /// The smallest finite value (largest finite float when there is none).
    static func minFinite(_ buffer: UnsafeMutableBufferPointer<Float>) -> Float {
        guard let base = buffer.baseAddress else { return .greatestFiniteMagnitude }
        let count = buffer.count
        var least = Vector(repeating: .greatestFiniteMagnitude)
        var i = 0
        while i + width <= count {
            let v = load(base, i)
            let u = v.replacing(with: .greatestFiniteMagnitude, where: v .== -.infinity)
            least = least.replacing(with: u, where: u .< least)
            i += width
        }
        var result = least.min()
        while i < count {
            let x = base[i]
            if x < result && x > -.infinity { result = x }
            i += 1
        }
        return result
    }

    /// The index of the largest value, ties to the lowest index; NaN never wins. 0 when
    /// every value is NaN or -infinity.
    static func argmax(_ buffer: UnsafeBufferPointer<Float>) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        let count = buffer.count
        var best = Vector(repeating: -.infinity)
        var i = 0
        while i + width <= count {
            let v = load(base, i)
            best = best.replacing(with: v, where: v .> best)
            i += width
        }
        var top = best.max()
        while i < count {
            if base[i] > top { top = base[i] }
            i += 1
        }
        guard top > -.infinity else { return 0 }
        let splat = Vector(repeating: top)
        i = 0
        while i + width <= count {
            if anyLane(load(base, i) .== splat) { break }
            i += width
        }
        while i < count {
            if base[i] == top { return i }
            i += 1
        }
        return 0  // unreachable: `top` is one of the values
    }

    /// The sum of the positive entries (NaN and negatives count as 0), in Double.
    static func positiveSum(_ buffer: UnsafeBufferPointer<Float>) -> Double {
        guard let base = buffer.baseAddress else { return 0 }
        let count = buffer.count
        var total = 0.0
        var i = 0
        while i + width <= count {
            total += Double(laneSum(positive(load(base, i))))
            i += width
        }
        while i < count {
            if base[i] > 0 { total += Double(base[i]) }
            i += 1
        }
        return total
    }

    /// The first index at which the running sum of positive entries exceeds `target`
    /// (entries that are not positive are never returned); the last positive entry when
    /// rounding leaves `target` past the end; nil when no entry is positive.
    static func inverseCDF(_ buffer: UnsafeBufferPointer<Float>, target: Double) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        let count = buffer.count
        var cumulative = 0.0
        var i = 0
        while i + width <= count {
            let chunk = Double(laneSum(positive(load(base, i))))
            if cumulative + chunk > target {
                for j in i..<(i + width) where base[j] > 0 {
                    cumulative += Double(base[j])
                    if cumulative > target { return j }
                }
                return lastPositive(base, below: i + width)
            }
            cumulative += chunk
            i += width
        }
        while i < count {
            if base[i] > 0 {
                cumulative += Double(base[i])
                if cumulative > target { return i }
            }
            i += 1
        }
        return lastPositive(base, below: count)
    }

    private static func lastPositive(_ base: UnsafePointer<Float>, below end: Int) -> Int? {
        var j = end - 1
        while j >= 0 {
            if base[j] > 0 { return j }
            j -= 1
        }
        return nil
    }

    @inline(__always)
    private static func positive(_ v: Vector) -> Vector {
        Vector(repeating: 0).replacing(with: v, where: v .> 0)
    }

    /// `out[i] = exp((x[i] - shift) / temperature)` where `keep(x[i], i)`, 0 elsewhere;
    /// returns the sum (in Double). `keep` is the survivor cut: x > cutLogit, or
    /// x == cutLogit and i <= cutId.
    static func exponentiate(
        _ x: UnsafeMutableBufferPointer<Float>, shift: Float, temperature: Float,
        cutLogit: Float, cutId: Int, into out: UnsafeMutableBufferPointer<Float>
    ) -> Double {
        guard let xb = x.baseAddress, let ob = out.baseAddress else { return 0 }
        let count = x.count
        var sum = 0.0
        var i = 0
        let shifts = Vector(repeating: shift), temperatures = Vector(repeating: temperature)
        let cuts = Vector(repeating: cutLogit), zero = Vector(repeating: 0)
        while i + width <= count {
            let v = load(xb, i)
            let e = exp((v - shifts) / temperatures)
            var kept = zero.replacing(with: e, where: v .> cuts)
            if anyLane(v .== cuts) {  // ties with the cut token: keep ids up to cutId
                for lane in 0..<width where v[lane] == cutLogit && i + lane <= cutId { kept[lane] = e[lane] }
            }
            store(kept, ob, i)
            sum += Double(laneSum(kept))
            i += width
        }
        while i < count {
            let v = xb[i]
            var e: Float = 0
            if v > cutLogit || (v == cutLogit && i <= cutId) { e = exp((v - shift) / temperature) }
            ob[i] = e
            sum += Double(e)
            i += 1
        }
        return sum
    }

    /// `buffer[i] *= factor`.
    static func scale(_ buffer: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        guard let base = buffer.baseAddress else { return }
        let count = buffer.count
        let factors = Vector(repeating: factor)
        var i = 0
        while i + width <= count {
            store(load(base, i) * factors, base, i)
            i += width
        }
        while i < count {
            base[i] *= factor
            i += 1
        }
    }
}
