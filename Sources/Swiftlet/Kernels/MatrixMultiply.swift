/// The linear-layer kernel: `y = x · wᵀ` for activation rows `x (m, k)` and a weight matrix
/// `w (n, k)` in any `WeightFormat` (GGUF's `[out x in]` layout), `y (m, n)`.
///
/// The C kernels (`swk_matmul`) decide how to walk the weights: small batches stream each
/// weight row once for all rows, larger ones use register tiles, staged through per-thread
/// scratch when the weights come from memory. Batch invariant by construction on every
/// path: each output element is summed in one fixed order whatever `m` is and whichever
/// tile computes it, so a token's logits are bit-identical alone, in a prefill chunk or in a
/// 64-sequence batch. Threads split the weight rows, so each weight byte is read once per step.
public enum MatrixMultiply {
    /// Whether a model that reads `bytes` of weights per step streams them from memory: more
    /// than 32 MiB, or than half the last-level cache where that is smaller (the KV cache,
    /// activations, a draft model and other processes share it: the shipped 31 MiB F16
    /// target read its weights at DRAM speed, 25 GB/s, on a Zen 4 VM with 32 MiB of L3).
    public static func streamsFromMemory(weightBytesPerStep bytes: Int, lastLevelCache: Int? = Memory.lastLevelCacheBytes) -> Bool {
        bytes > min(32 << 20, (lastLevelCache ?? Int.max) / 2)
    }

    /// One thread's share: weight rows `share` of `y = x · wᵀ` for `m` prepared rows of `x`
    /// into `y` (row stride `w.rows`). `scratch` is the thread's own.
    @inline(__always)
    public static func multiply(_ x: ActivationBuffer, _ w: WeightMatrix, into y: UnsafeMutablePointer<Float>, m: Int,
                                share: Range<Int>, scratch: UnsafeMutableBufferPointer<Float>, fromMemory: Bool, kernels: Kernels) {
        guard !share.isEmpty, m > 0 else { return }
        kernels.matmul(type: w.format.type.rawValue, x.rows(for: w.format), w.elements, y, m: m, k: w.columns, ldy: w.rows,
                        rows: share, scratch: UnsafeMutableRawPointer(scratch.baseAddress), scratchBytes: scratch.count * 4,
                        fromMemory: fromMemory)
    }

    /// The whole product over the pool's threads: `y (m, w.rows)` from the first `m` rows of
    /// `x`, which must already be prepared (`ActivationBuffer.prepare(rows:)`).
    public static func multiply(_ x: ActivationBuffer, _ w: WeightMatrix, into y: UnsafeMutablePointer<Float>, m: Int,
                                pool: ThreadPool, fromMemory: Bool = false, kernels: Kernels = .default) {
        let parts = pool.parts(w.rows, granularity: 4)
        pool.run(parts: parts) { part, thread in
            let share = pool.partition(w.rows, part: part, of: parts, granularity: 4)
            multiply(x, w, into: y, m: m, share: share, scratch: pool.scratch(thread), fromMemory: fromMemory, kernels: kernels)
        }
    }
}
