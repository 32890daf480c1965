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

    /// Parts per thread for a region that multiplies `m` activation rows by matrices whose
    /// weights stream from memory (`fromMemory`) or not. Skinny steps from memory take one
    /// part per thread: each thread's whole share is then one walk, whose streams (two far
    /// apart from 2 rows up, `stream_rows512`) run long instead of restarting every eighth
    /// of the matrix. The shipped target on Zen 4 (`bench-kernels --model`, 2 threads,
    /// alternating): 2 rows 696-758 µs against 804-881 with four parts a thread, 3 rows
    /// 799-913 against 917-1103, 5 rows 1099-1178 against 1197-1410, 1 row the same
    /// (Benchmarks/RESULTS.md, session 12). Larger steps and cached weights keep
    /// `ThreadPool.partsPerThread`, so a stalled thread's parts can be taken by the others.
    public static func partsPerThread(rows m: Int, fromMemory: Bool) -> Int {
        fromMemory && m <= Kernels.skinnyRows ? 1 : ThreadPool.partsPerThread
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
        let parts = pool.parts(w.rows, granularity: 4, perThread: partsPerThread(rows: m, fromMemory: fromMemory))
        pool.run(parts: parts) { part, thread in
            let share = pool.partition(w.rows, part: part, of: parts, granularity: 4)
            multiply(x, w, into: y, m: m, share: share, scratch: pool.scratch(thread), fromMemory: fromMemory, kernels: kernels)
        }
    }
}
