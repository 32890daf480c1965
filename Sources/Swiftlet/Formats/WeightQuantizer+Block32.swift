/// The 32-element block formats with a min or a fifth bit or a non-linear grid, written as
/// ggml lays them out (see matmul_block32.c for the layouts):
/// - Q4_1 / Q5_1: levels 0...15 / 0...31 between the block's min and max,
///   `d = (max - min) / levels`, stored min `m`;
/// - Q5_0: the value of largest magnitude, with its sign, maps to level -16 (as Q4_0 does to -8);
/// - IQ4_NL: each value takes the nearest of the 16 grid points scaled by `d`; a few
///   candidate scales are tried and the one with the least squared error is kept, its `d`
///   refitted by least squares.
extension WeightQuantizer {
    /// The types of this family.
    static let block32Types: [GGMLType] = [.q4_1, .q5_0, .q5_1, .iq4_nl]

    /// IQ4_NL's non-linear grid (ggml's `kvalues_iq4nl`).
    static let iq4nlGrid: [Float] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    /// Appends one 32-value block of `type` (one of `block32Types`) to `out`.
    static func encodeBlock32(_ values: ArraySlice<Float>, as type: GGMLType, into out: inout [UInt8]) {
        let block = Array(values)  // (32)
        var levels = [Int](repeating: 0, count: 32)
        switch type {
        case .q4_1, .q5_1:
            let top = type == .q4_1 ? 15 : 31
            let low = block.min()!, high = block.max()!
            let d = (high - low) / Float(top)
            let inverse: Float = d != 0 ? 1 / d : 0
            append(Float16(d).bitPattern, to: &out)
            append(Float16(low).bitPattern, to: &out)
            for t in 0..<32 { levels[t] = min(top, max(0, Int(((block[t] - low) * inverse + 0.5).rounded(.down)))) }
        case .q5_0:
            var signedMax: Float = 0
            for v in block where abs(v) > abs(signedMax) { signedMax = v }
            let d = signedMax / -16
            let inverse: Float = d != 0 ? 1 / d : 0
            append(Float16(d).bitPattern, to: &out)
            for t in 0..<32 { levels[t] = min(31, max(0, Int((block[t] * inverse + 16.5).rounded(.down)))) }
        default:  // .iq4_nl
            let (d, indices) = iq4nlBlock(block)
            append(Float16(d).bitPattern, to: &out)
            levels = indices
        }
        if type == .q5_0 || type == .q5_1 {
            var high: UInt32 = 0
            for t in 0..<32 where levels[t] & 16 != 0 { high |= 1 << UInt32(t) }
            append(high, to: &out)
        }
        for t in 0..<16 { out.append(UInt8(levels[t] & 15) | UInt8(levels[t + 16] & 15) << 4) }
    }

    /// The scale and grid indices of one IQ4_NL block with the least squared error among a
    /// few candidate scales.
    private static func iq4nlBlock(_ block: [Float]) -> (Float, [Int]) {
        var signedMax: Float = 0
        for v in block where abs(v) > abs(signedMax) { signedMax = v }
        guard signedMax != 0 else { return (0, [Int](repeating: 8, count: 32)) }  // grid point 1 times 0
        func nearest(_ v: Float) -> Int {
            var best = 0
            for i in 1..<16 where abs(iq4nlGrid[i] - v) < abs(iq4nlGrid[best] - v) { best = i }
            return best
        }
        var bestError = Float.infinity, bestScale: Float = 0, bestIndices: [Int] = []
        for step in -6...6 {
            let scale = signedMax / (iq4nlGrid[0] + Float(step))
            let indices = block.map { nearest($0 / scale) }
            // Least-squares scale for these indices, then its error.
            var xy: Float = 0, yy: Float = 0
            for (v, i) in zip(block, indices) { xy += v * iq4nlGrid[i]; yy += iq4nlGrid[i] * iq4nlGrid[i] }
            let d = yy > 0 ? xy / yy : scale
            var error: Float = 0
            for (v, i) in zip(block, indices) { let e = v - d * iq4nlGrid[i]; error += e * e }
            if error < bestError { (bestError, bestScale, bestIndices) = (error, d, indices) }
        }
        return (bestScale, bestIndices)
    }
}
