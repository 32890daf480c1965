import Foundation

/// Small Swift SIMD helpers: the sampler's vector `exp` and lane sum, and RoPE. The decoder's
/// row ops (RMSNorm, SwiGLU, softmax, adds) run in the C kernels, as methods of `Kernels`.
public enum VectorOps {
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
}
