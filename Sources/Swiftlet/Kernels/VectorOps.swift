import Foundation

/// Element-wise and row kernels of the decoder, SIMD over 16 floats with scalar tails.
/// Each works on one row; callers loop over rows (and threads).
public enum VectorOps {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// `out = x / sqrt(mean(x²) + epsilon) * weight`, for one row of `count`.
    @inline(__always)
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float,
                               into out: UnsafeMutablePointer<Float>, count: Int) {
        let c16 = count & ~15
        var acc = SIMD16<Float>()
        var i = 0
        while i < c16 {
            let v = load(x + i)
            acc.addProduct(v, v)
            i += 16
        }
        var sum = laneSum(acc)
        while i < count {
            sum += x[i] * x[i]
            i += 1
        }
        let scale = 1 / (sum / Float(count) + epsilon).squareRoot()
        let scales = SIMD16<Float>(repeating: scale)
        i = 0
        while i < c16 {
            store(load(x + i) * scales * load(weight + i), out + i)
            i += 16
        }
        while i < count {
            out[i] = x[i] * scale * weight[i]
            i += 1
        }
    }

    /// `x += y` for `count` elements.
    @inline(__always)
    public static func add(_ y: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count: Int) {
        let c16 = count & ~15
        var i = 0
        while i < c16 {
            store(load(x + i) + load(y + i), x + i)
            i += 16
        }
        while i < count {
            x[i] += y[i]
            i += 1
        }
    }

    /// SwiGLU: `gate = silu(gate) * up`, `silu(g) = g / (1 + e^-g)`.
    @inline(__always)
    public static func swiGLU(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let c16 = count & ~15
        var i = 0
        while i < c16 {
            let g = load(gate + i)
            store(g / (SIMD16<Float>(repeating: 1) + exp(SIMD16<Float>() - g)) * load(up + i), gate + i)
            i += 16
        }
        while i < count {
            let g = gate[i]
            gate[i] = g / (1 + Foundation.exp(-g)) * up[i]
            i += 1
        }
    }

    /// In-place softmax over `count` values; returns nothing, leaves probabilities.
    @inline(__always)
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c16 = count & ~15
        var maxima = SIMD16<Float>(repeating: -.infinity)
        var j = 0
        while j < c16 {
            // Compare and blend (the generic pointwiseMax runs lane by lane).
            let v = load(x + j)
            maxima = maxima.replacing(with: v, where: v .> maxima)
            j += 16
        }
        var maxValue = -Float.infinity  // a maximum is the same in any order
        for lane in 0..<16 where maxima[lane] > maxValue { maxValue = maxima[lane] }
        while j < count {
            maxValue = max(maxValue, x[j])
            j += 1
        }
        let m = SIMD16<Float>(repeating: maxValue)
        var acc = SIMD16<Float>()
        var i = 0
        while i < c16 {
            let e = exp(load(x + i) - m)
            store(e, x + i)
            acc += e
            i += 16
        }
        var sum = laneSum(acc)
        while i < count {
            let e = Foundation.exp(x[i] - maxValue)
            x[i] = e
            sum += e
            i += 1
        }
        let inverse = 1 / sum
        let inverses = SIMD16<Float>(repeating: inverse)
        i = 0
        while i < c16 {
            store(load(x + i) * inverses, x + i)
            i += 16
        }
        while i < count {
            x[i] *= inverse
            i += 1
        }
    }

    /// The sum of the lanes (halving reduction).
    @_transparent
    public static func laneSum(_ v: SIMD16<Float>) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    /// e^x per lane, within about 2 ulp for x in [-87, 88]; 0 below -87 (and for -infinity).
    /// Range reduction x = n·ln2 + r with |r| <= ln2/2, a degree-7 Taylor polynomial for e^r,
    /// and 2^n built in the exponent bits. (Only lane-wise arithmetic, compares and blends:
    /// Swift's generic SIMD clamping and float-to-int conversion run lane by lane.)
    @_transparent
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        typealias Vector = SIMD16<Float>
        // Constants as vectors: Swift's vector-with-scalar operators are not reliably inlined.
        let low = Vector(repeating: -87), high = Vector(repeating: 88)
        var c = x.replacing(with: low, where: x .< low)
        c = c.replacing(with: high, where: c .> high)
        // Adding 1.5·2^23 rounds to an integer n held in the low mantissa bits.
        let magic = Vector(repeating: 12_582_912)
        let shifted = c * Vector(repeating: 1.442_695_04) + magic
        let n = shifted - magic
        var r = c - n * Vector(repeating: 0.693_359_375)  // ln 2, high part (exact in float)
        r = r + n * Vector(repeating: 2.121_944_4e-4)  // minus ln 2, low part
        var p = Vector(repeating: 1.0 / 5040)
        p = p * r + Vector(repeating: 1.0 / 720)
        p = p * r + Vector(repeating: 1.0 / 120)
        p = p * r + Vector(repeating: 1.0 / 24)
        p = p * r + Vector(repeating: 1.0 / 6)
        p = p * r + Vector(repeating: 0.5)
        p = p * r + Vector(repeating: 1)
        p = p * r + Vector(repeating: 1)
        let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- SIMD16<Int32>(repeating: 0x4B40_0000)
        let exponent = (integer &+ SIMD16<Int32>(repeating: 127)) &<< SIMD16<Int32>(repeating: 23)
        let result = p * unsafeBitCast(exponent, to: Vector.self)
        return Vector(repeating: 0).replacing(with: result, where: x .>= low)
    }

    /// Rotates adjacent pairs `(x[2i], x[2i+1])` of one head by `position · θᵢ`, with the
    /// precomputed `cos`/`sin` row of that position (`headDimension / 2` each).
    @inline(__always)
    public static func rope(_ x: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, headDimension: Int) {
        for i in 0..<(headDimension / 2) {
            let a = x[2 * i], b = x[2 * i + 1]
            let c = cos[i], s = sin[i]
            x[2 * i] = a * c - b * s
            x[2 * i + 1] = a * s + b * c
        }
    }

    /// Dot product of `count` floats (SIMD partial sums, then a fixed horizontal sum).
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        MatrixMultiply.dot(a, b, count)
    }
}
