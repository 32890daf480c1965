/// Array-taking conveniences (they allocate; the engine's per-token path uses the
/// buffer-pointer calls).
extension Sampler {
    /// The distribution the next token is drawn from; see `distribution(logits:history:into:)`.
    public func distribution(logits: [Float], history: [Int32] = []) -> [Float] {
        var probabilities = [Float](repeating: 0, count: vocabularySize)
        logits.withUnsafeBufferPointer { l in
            history.withUnsafeBufferPointer { h in
                probabilities.withUnsafeMutableBufferPointer { p in
                    distribution(logits: l, history: h, into: p)
                }
            }
        }
        return probabilities
    }

    /// Samples the next token; see `sample(logits:history:)`.
    public mutating func sample(logits: [Float], history: [Int32] = []) -> Int32 {
        logits.withUnsafeBufferPointer { l in
            history.withUnsafeBufferPointer { h in
                sample(logits: l, history: h)
            }
        }
    }

    /// Draws a token from `probabilities`; see `draw(from:)`.
    public mutating func draw(from probabilities: [Float]) -> Int32 {
        probabilities.withUnsafeBufferPointer { draw(from: $0) }
    }
}
