/// Speculative sampling (Leviathan et al. 2023; Chen et al. 2023): accept draft token x with
/// probability min(1, p(x)/q(x)); at the first rejection draw from normalize(max(0, p − q));
/// when all k are accepted draw a bonus token from p. With greedy parameters p and q are
/// one-hot, so this accepts while the target's argmax equals the draft token: the output is
/// token-identical to plain decoding, and for sampling it has the target's distribution.
public enum SpeculativeVerifier {
    /// The tokens to append: the accepted draft tokens, then one correction or bonus token.
    /// - Parameters:
    ///   - proposal: the draft tokens and their q.
    ///   - targetDistribution: writes p for position `i` (0...k) into the buffer; position
    ///     `i` follows the draft tokens `0..<i`.
    ///   - sampler: the request's sampler (its generator decides acceptance and draws).
    ///   - acceptance: the acceptance probability of a draft token; tests swap in wrong
    ///     rules to prove the distribution tests can fail.
    public static func verify(
        proposal: DraftProposal, vocabularySize: Int, sampler: inout Sampler,
        scratch: UnsafeMutableBufferPointer<Float>,
        acceptance: (_ p: Float, _ q: Float) -> Float = { p, q in min(1, p / q) },
        targetDistribution: (Int, UnsafeMutableBufferPointer<Float>) -> Void
    ) -> (tokens: [Int32], accepted: Int) {
        var output: [Int32] = []
        for (i, x) in proposal.tokens.enumerated() {
            targetDistribution(i, scratch)
            let p = scratch[Int(x)]
            let q = proposal.probability(of: x, at: i)
            let u = sampler.uniform()
            if q > 0 && u < acceptance(p, q) {
                output.append(x)
                continue
            }
            // Residual max(0, p − q) over the vocabulary, drawn without normalising (draw
            // takes unnormalised weights).
            if let distributions = proposal.distributions {
                let row = distributions[i]
                for t in 0..<vocabularySize { scratch[t] = max(0, scratch[t] - row[t]) }
            } else {
                scratch[Int(x)] = 0
            }
            var positive = false
            for t in 0..<vocabularySize where scratch[t] > 0 { positive = true; break }
            if !positive { targetDistribution(i, scratch) }  // p == q: any draw from p is exact
            output.append(sampler.draw(from: UnsafeBufferPointer(scratch)))
            return (output, i)
        }
        targetDistribution(proposal.tokens.count, scratch)
        output.append(sampler.draw(from: UnsafeBufferPointer(scratch)))
        return (output, proposal.tokens.count)
    }
}
