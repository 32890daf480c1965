/// The repetition, frequency and presence penalties, applied in place to logits given the
/// recent tokens (llama.cpp's `penalties` sampler). For each distinct token `t` seen `c`
/// times in the last `window` history tokens:
///
///     logit[t] = logit[t] > 0 ? logit[t] / repetition : logit[t] * repetition
///     logit[t] -= c * frequency + presence
///
/// History ids outside the vocabulary are ignored.
struct LogitPenalties {
    var repetition: Float
    var frequency: Float
    var presence: Float
    var window: Int

    init(_ parameters: SamplingParameters) {
        repetition = parameters.repetitionPenalty
        frequency = parameters.frequencyPenalty
        presence = parameters.presencePenalty
        window = parameters.repetitionWindow
    }

    /// Applies the penalties to `logits` (vocabulary-sized).
    /// - Parameters:
    ///   - counts: vocabulary-sized scratch, all zero on entry; left all zero on return.
    ///   - touched: scratch for at least `window` token ids.
    func apply(
        to logits: UnsafeMutableBufferPointer<Float>, history: UnsafeBufferPointer<Int32>,
        counts: UnsafeMutableBufferPointer<Int32>, touched: UnsafeMutableBufferPointer<Int32>
    ) {
        let vocabulary = logits.count
        let start = max(0, history.count - window)
        var distinct = 0
        for i in start..<history.count {
            let token = Int(history[i])
            guard token >= 0, token < vocabulary else { continue }
            if counts[token] == 0 {
                touched[distinct] = Int32(token)
                distinct += 1
            }
            counts[token] += 1
        }
        for j in 0..<distinct {
            let token = Int(touched[j])
            var logit = logits[token]
            logit = logit > 0 ? logit / repetition : logit * repetition
            logit -= Float(counts[token]) * frequency + presence
            logits[token] = logit
            counts[token] = 0
        }
    }
}
