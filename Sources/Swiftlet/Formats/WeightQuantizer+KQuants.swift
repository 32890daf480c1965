/// Encoders for the 256-element super-block formats (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS),
/// written in ggml's block layouts (see `Sources/CSwiftletKernels/kquant_blocks.h`).
///
/// Plain round-to-nearest with one pass of scale fitting per group: good enough for the
/// project's test models and benchmarks (the error bounds are tested), not a replacement
/// for llama.cpp's importance-weighted search.
extension WeightQuantizer {
    /// The super-block formats this file encodes.
    static let superBlockTypes: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs]

    /// Whether `type` is one of the super-block formats this file encodes.
    static func isSuperBlock(_ type: GGMLType) -> Bool {
        switch type {
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs: return true
        default: return false
        }
    }

    /// `values` (a whole number of 256-element super-blocks) encoded as `type`.
    static func encodeSuperBlocks(_ values: [Float], as type: GGMLType) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count / 256 * type.blockBytes)
        for start in stride(from: 0, to: values.count, by: 256) {
            let x = Array(values[start..<(start + 256)])
            switch type {
            case .q2_K: out += encodeMinFormat(x, groupSize: 16, levels: 3, scaleBits: 4, highBit: false)
            case .q4_K: out += encodeMinFormat(x, groupSize: 32, levels: 15, scaleBits: 6, highBit: false)
            case .q5_K: out += encodeMinFormat(x, groupSize: 32, levels: 31, scaleBits: 6, highBit: true)
            case .q3_K: out += encodeQ3K(x)
            case .q6_K: out += encodeQ6K(x)
            default: out += encodeIQ4XS(x)
            }
        }
        return out
    }

    /// The value of largest magnitude in `x`, with its sign (0 for an empty or all-zero slice).
    private static func signedMax(_ x: ArraySlice<Float>) -> Float {
        var best: Float = 0
        for v in x where abs(v) > abs(best) { best = v }
        return best
    }

    private static func half(_ v: Float) -> (bits: UInt16, value: Float) {
        let h = Float16(v)
        return (h.bitPattern, Float(h))
    }

    private static func appendHalf(_ bits: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(bits & 0xFF))
        out.append(UInt8(bits >> 8))
    }

    /// Rounds to the nearest integer in `range`; NaN gives the lower bound.
    private static func level(_ v: Float, _ range: ClosedRange<Int>) -> Int {
        guard v.isFinite else { return v == .infinity ? range.upperBound : range.lowerBound }
        return min(range.upperBound, max(range.lowerBound, Int(v.rounded())))
    }

    /// Q2_K, Q4_K, Q5_K: x ≈ d·sc·q − dmin·mn per group, q in 0...levels, sc and mn unsigned
    /// with `scaleBits` bits.
    private static func encodeMinFormat(_ x: [Float], groupSize: Int, levels: Int, scaleBits: Int, highBit: Bool) -> [UInt8] {
        let groups = 256 / groupSize
        var scales = [Float](repeating: 0, count: groups), mins = [Float](repeating: 0, count: groups)
        for g in 0..<groups {
            let slice = x[(g * groupSize)..<((g + 1) * groupSize)]
            let low = min(0, slice.min() ?? 0), high = slice.max() ?? 0
            scales[g] = (high - low) / Float(levels)
            mins[g] = -low
        }
        let top = Float((1 << scaleBits) - 1)
        let (dBits, d) = half((scales.max() ?? 0) / top)
        let (dminBits, dmin) = half((mins.max() ?? 0) / top)
        var sc = [Int](repeating: 0, count: groups), mn = [Int](repeating: 0, count: groups)
        var q = [Int](repeating: 0, count: 256)
        for g in 0..<groups {
            sc[g] = d > 0 ? level(scales[g] / d, 0...Int(top)) : 0
            mn[g] = dmin > 0 ? level(mins[g] / dmin, 0...Int(top)) : 0
            let step = d * Float(sc[g]), offset = dmin * Float(mn[g])
            for t in 0..<groupSize {
                let e = g * groupSize + t
                q[e] = step > 0 ? level((x[e] + offset) / step, 0...levels) : 0
            }
        }
        var out: [UInt8] = []
        if groupSize == 16 {  // Q2_K: scales[16], qs[64], d, dmin
            out += (0..<16).map { UInt8(sc[$0] | mn[$0] << 4) }
            var qs = [UInt8](repeating: 0, count: 64)
            for e in 0..<256 { qs[32 * (e >> 7) + (e & 31)] |= UInt8(q[e] << (2 * ((e >> 5) & 3))) }
            out += qs
            appendHalf(dBits, to: &out)
            appendHalf(dminBits, to: &out)
            return out
        }
        appendHalf(dBits, to: &out)  // Q4_K / Q5_K: d, dmin, scales[12], (qh[32]), qs[128]
        appendHalf(dminBits, to: &out)
        var packed = [UInt8](repeating: 0, count: 12)
        for j in 0..<8 {
            if j < 4 {
                packed[j] = UInt8(sc[j])
                packed[j + 4] = UInt8(mn[j])
            } else {
                packed[j + 4] = UInt8(sc[j] & 15 | (mn[j] & 15) << 4)
                packed[j - 4] |= UInt8((sc[j] >> 4) << 6)
                packed[j] |= UInt8((mn[j] >> 4) << 6)
            }
        }
        out += packed
        if highBit {
            var qh = [UInt8](repeating: 0, count: 32)
            for e in 0..<256 where q[e] > 15 { qh[e & 31] |= UInt8(1 << (e >> 5)) }
            out += qh
        }
        var qs = [UInt8](repeating: 0, count: 128)
        for e in 0..<256 { qs[32 * (e >> 6) + (e & 31)] |= UInt8((q[e] & 15) << (4 * ((e >> 5) & 1))) }
        out += qs
        return out
    }

    /// Q3_K: x ≈ d·(sc − 32)·q per 16, q in −4...3, sc 6 bits.
    private static func encodeQ3K(_ x: [Float]) -> [UInt8] {
        var scales = [Float](repeating: 0, count: 16)
        for g in 0..<16 { scales[g] = signedMax(x[(16 * g)..<(16 * g + 16)]) / -4 }
        let (dBits, d) = half(signedMax(scales[...]) / -32)
        var hmask = [UInt8](repeating: 0, count: 32), qs = [UInt8](repeating: 0, count: 64)
        var sc = [Int](repeating: 0, count: 16)
        for g in 0..<16 {
            sc[g] = d != 0 ? level(scales[g] / d, -32...31) : 0
            let step = d * Float(sc[g])
            for t in 0..<16 {
                let e = 16 * g + t
                let u = (step != 0 ? level(x[e] / step, -4...3) : 0) + 4
                qs[32 * (e >> 7) + (e & 31)] |= UInt8((u & 3) << (2 * ((e >> 5) & 3)))
                if u > 3 { hmask[e & 31] |= UInt8(1 << (e >> 5)) }
            }
        }
        var packed = [UInt8](repeating: 0, count: 12)
        for i in 0..<16 {
            let v = sc[i] + 32
            if i < 8 { packed[i] |= UInt8(v & 15) } else { packed[i - 8] |= UInt8((v & 15) << 4) }
            packed[8 + i % 4] |= UInt8((v >> 4) << (2 * (i / 4)))
        }
        var out = hmask + qs + packed
        appendHalf(dBits, to: &out)
        return out
    }

    /// Q6_K: x ≈ d·sc·q per 16, q in −32...31, sc int8.
    private static func encodeQ6K(_ x: [Float]) -> [UInt8] {
        var scales = [Float](repeating: 0, count: 16)
        for g in 0..<16 { scales[g] = signedMax(x[(16 * g)..<(16 * g + 16)]) / -32 }
        let (dBits, d) = half(signedMax(scales[...]) / -128)
        var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
        var sc = [Int](repeating: 0, count: 16)
        for g in 0..<16 {
            sc[g] = d != 0 ? level(scales[g] / d, -128...127) : 0
            let step = d * Float(sc[g])
            for t in 0..<16 {
                let e = 16 * g + t
                let u = (step != 0 ? level(x[e] / step, -32...31) : 0) + 32
                let n = e >> 7, within = e & 127
                ql[64 * n + (within & 63)] |= UInt8((u & 15) << (4 * (within >> 6)))
                qh[32 * n + (within & 31)] |= UInt8((u >> 4) << (2 * (within >> 5)))
            }
        }
        var out = ql + qh + sc.map { UInt8(bitPattern: Int8($0)) }
        appendHalf(dBits, to: &out)
        return out
    }

    /// IQ4_XS: x ≈ d·(ls − 32)·kvalues[q] per 32, ls 6 bits.
    private static func encodeIQ4XS(_ x: [Float]) -> [UInt8] {
        let book: [Float] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]
        var scales = [Float](repeating: 0, count: 8)
        for j in 0..<8 { scales[j] = signedMax(x[(32 * j)..<(32 * j + 32)]) / -127 }
        let (dBits, d) = half(signedMax(scales[...]) / -32)
        var high: UInt16 = 0
        var low = [UInt8](repeating: 0, count: 4), qs = [UInt8](repeating: 0, count: 128)
        for j in 0..<8 {
            let ls = d != 0 ? level(scales[j] / d, -32...31) : 0
            let step = d * Float(ls)
            low[j / 2] |= UInt8(((ls + 32) & 15) << (4 * (j % 2)))
            high |= UInt16((ls + 32) >> 4) << (2 * j)
            for t in 0..<32 {
                let v = step != 0 ? x[32 * j + t] / step : 0
                var best = 0
                for c in 1..<16 where abs(book[c] - v) < abs(book[best] - v) { best = c }
                qs[16 * j + (t & 15)] |= UInt8(best << (4 * (t >> 4)))
            }
        }
        var out: [UInt8] = []
        appendHalf(dBits, to: &out)
        appendHalf(high, to: &out)
        return out + low + qs
    }
}
