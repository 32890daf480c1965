import Foundation

/// RoPE for one step's tokens, computed from their positions each step instead of from a
/// table over the whole context: a model may declare a context of millions of positions at
/// no cost, and any position the engine admits is rotated exactly (angles in double).
///
/// Layers that share a frequency base and scale share one group of angles. Pair `i` of a
/// group turns by `position · scale · base^(-2i / rotary) / factor[i]`, `rotary` being the
/// rotated dimensions of a head and `factor` the file's `rope_freqs.weight` (or 1), as
/// llama.cpp's `ggml_rope_ext` does without YaRN.
final class RotaryEmbedding {
    let style: RopeStyle
    /// Rotated dimensions of a head (even, at most the head dimension).
    let rotaryDimensions: Int
    /// Group of each layer.
    let layerGroups: [Int]
    private let groupCount: Int
    private let capacity: Int
    private let inverseFrequencies: [Double]       // (groups, rotary / 2)
    private let cosines: UnsafeMutablePointer<Float>  // (groups, T, rotary / 2) of the current step
    private let sines: UnsafeMutablePointer<Float>    // (groups, T, rotary / 2) of the current step

    /// Angles for steps of up to `maxBatchTokens` tokens.
    init(configuration c: ModelConfiguration, factors: UnsafePointer<Float>?, maxBatchTokens: Int) {
        style = c.ropeStyle
        rotaryDimensions = c.ropeDimensionCount
        capacity = max(1, maxBatchTokens)
        let half = rotaryDimensions / 2
        var keys: [LayerSpec] = []
        var groups: [Int] = []
        for layer in 0..<c.layerCount {
            var spec = c.layerSpec(layer)
            spec.slidingWindow = nil
            if let index = keys.firstIndex(of: spec) {
                groups.append(index)
            } else {
                groups.append(keys.count)
                keys.append(spec)
            }
        }
        layerGroups = groups
        groupCount = max(1, keys.count)
        var frequencies: [Double] = []
        for spec in keys {
            for i in 0..<half {
                let factor = factors.map { Double($0[i]) } ?? 1
                let theta = pow(Double(spec.ropeFrequencyBase), -2.0 * Double(i) / Double(rotaryDimensions))
                frequencies.append(Double(spec.ropeFrequencyScale) * theta / factor)
            }
        }
        inverseFrequencies = frequencies
        let count = max(1, groupCount * capacity * half)
        cosines = .allocate(capacity: count)
        sines = .allocate(capacity: count)
    }

    deinit {
        cosines.deallocate()
        sines.deallocate()
    }

    /// Computes the angles of the step's `count` tokens at `positions`.
    func prepare(positions: UnsafeBufferPointer<Int32>, count: Int) {
        precondition(count <= capacity, "RoPE for \(count) tokens (capacity \(capacity))")
        let half = rotaryDimensions / 2
        for group in 0..<(inverseFrequencies.isEmpty ? 0 : groupCount) {
            for t in 0..<count {
                let position = Double(positions[t])
                let row = (group * capacity + t) * half
                for i in 0..<half {
                    let angle = position * inverseFrequencies[group * half + i]
                    cosines[row + i] = Float(cos(angle))
                    sines[row + i] = Float(sin(angle))
                }
            }
        }
    }

    /// Rotates `heads` heads of `headDimension` at `x` (token `t` of the prepared step) for `layer`.
    @inline(__always)
    func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, headDimension: Int, token t: Int, layer: Int) {
        let half = rotaryDimensions / 2
        guard half > 0 else { return }
        let row = (layerGroups[layer] * capacity + t) * half
        let cosRow = cosines + row, sinRow = sines + row
        for head in 0..<heads {
            let h = x + head * headDimension
            switch style {
            case .adjacentPairs:
                VectorOps.rope(h, cos: cosRow, sin: sinRow, headDimension: rotaryDimensions)
            case .splitHalves:
                for i in 0..<half {
                    let a = h[i], b = h[i + half]
                    let c = cosRow[i], s = sinRow[i]
                    h[i] = a * c - b * s
                    h[i + half] = a * s + b * c
                }
            }
        }
    }
}
