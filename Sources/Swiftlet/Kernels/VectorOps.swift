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
        var sum = acc.sum()
        while i < count {
            sum += x[i] * x[i]
            i += 1
        }
        let scale = 1 / (sum / Float(count) + epsilon).squareRoot()
        i = 0
        while i < c16 {
            store(load(x + i) * scale * load(weight + i), out + i)
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
            store(g / (1 + exp(-g)) * load(up + i), gate + i)
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
        var maxValue = -Float.infinity
        for i in 0..<count where x[i] > maxValue { maxValue = x[i] }
        let c16 = count & ~15
        let m = SIMD16<Float>(repeating: maxValue)
        var acc = SIMD16<Float>()
        var i = 0
        while i < c16 {
            let e = exp(load(x + i) - m)
            store(e, x + i)
            acc += e
            i += 16
        }
        var sum = acc.sum()
        while i < count {
            let e = Foundation.exp(x[i] - maxValue)
            x[i] = e
            sum += e
            i += 1
        }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
    }

    /// e^x for 16 lanes: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial,
    /// 2^n through the exponent bits. Relative error about 2e-7 over the float range;
    /// inputs below -87 give 0, above 88 give +inf.
    @inline(__always)
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let clamped = x.clamped(lowerBound: SIMD16(repeating: -87.3), upperBound: SIMD16(repeating: 88.7))
        let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
        // Cody–Waite: ln2 split in a high part exact in float and a low remainder.
        var r = clamped - n * 0.693_145_751_953_125
        r = r - n * 1.428_606_765_330_187e-06
        var p = SIMD16<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let bits = SIMD16<Int32>(truncatingIfNeeded: SIMD16<Int32>(n) &+ 127) &<< 23
        let scale = unsafeBitCast(bits, to: SIMD16<Float>.self)
        var result = p * scale
        result.replace(with: SIMD16(repeating: 0), where: x .< -87.3)
        result.replace(with: SIMD16(repeating: .infinity), where: x .> 88.7)
        return result
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

    /// `y += alpha * x` for `count` elements.
    @inline(__always)
    public static func addScaled(_ x: UnsafePointer<Float>, _ alpha: Float, to y: UnsafeMutablePointer<Float>, count: Int) {
        let c16 = count & ~15
        let a = SIMD16<Float>(repeating: alpha)
        var i = 0
        while i < c16 {
            var v = load(y + i)
            v.addProduct(a, load(x + i))
            store(v, y + i)
            i += 16
        }
        while i < count {
            y[i] += alpha * x[i]
            i += 1
        }
    }
}
