/// The linear-layer kernel: `y = x · wᵀ` for row-major `x [m x k]`, `w [n x k]` (GGUF's
/// `[out x in]` layout), `y [m x n]`.
///
/// Batch invariant by construction: every output element is summed in the same order
/// whatever `m` is and whichever tile computes it (16-lane partial sums over `k` in steps
/// of 16, then the halving lane sum `VectorOps.laneSum`, then the scalar tail). So a token's logits are
/// bit-identical whether it runs alone, in a prefill chunk or in a 64-sequence batch.
/// Tiles of 4 rows x 4 weight rows read each weight vector once for four activation rows;
/// the threads split the weight rows, so each weight byte is read once per step.
public enum MatrixMultiply {
    /// `y[i][j] = Σ_k x[i][k] · w[j][k]` over the pool's threads. Every kernel path sums
    /// in the same order, so `streamingRows` changes speed, never results.
    /// - Parameters:
    ///   - x: activations, `(m, k)` row-major.
    ///   - w: weights, `(n, k)` row-major, F32 or F16 (widened as read: same sums).
    ///   - y: output, `(m, n)` row-major.
    public static func multiply(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, pool: ThreadPool, streamingRows: Int = defaultStreamingRows, staged: Bool = false
    ) {
        multiplyGeneric(x, w, into: y, m: m, n: n, k: k, pool: pool, streamingRows: streamingRows, staged: staged)
    }

    /// `multiply` with F16 weights (widened as read: the same sums as on their F32 copies).
    public static func multiply(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float16>, into y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, pool: ThreadPool, streamingRows: Int = defaultStreamingRows, staged: Bool = false
    ) {
        multiplyGeneric(x, w, into: y, m: m, n: n, k: k, pool: pool, streamingRows: streamingRows, staged: staged)
    }

    // Concrete public entry points: a generic one called from another module would run
    // unspecialised, every load through a witness table.
    private static func multiplyGeneric<W: StoredFloat>(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<W>, into y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, pool: ThreadPool, streamingRows: Int, staged: Bool
    ) {
        pool.run { thread in
            let rows = pool.partition(n, index: thread, granularity: 4)
            multiplyRange(x, w, y, m: m, n: n, k: k, rows: rows, streamingRows: streamingRows,
                          staging: staged ? pool.scratch(thread) : nil)
        }
    }

    /// Batch sizes up to which weights stream one row at a time by default: from DRAM a
    /// single sequential stream reads ~3x faster than four interleaved ones (measured with
    /// `swiftlet bench-kernels`), while in-cache weights favour the 4 x 4 tiles from 4 rows.
    public static let defaultStreamingRows = 2

    /// One thread's share: weight rows `rows` for all `m` activation rows. Small batches
    /// stream the weights one row at a time (a single sequential stream runs at ~3x the
    /// bandwidth of four interleaved ones on this CPU); larger ones use 4 x 4 register tiles.
    @inline(__always)
    static func multiplyRange<W: StoredFloat>(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<W>, _ y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, rows: Range<Int>, streamingRows: Int = defaultStreamingRows,
        staging: UnsafeMutableBufferPointer<Float>? = nil
    ) {
        if m <= streamingRows {
            streamRows(x, w, y, m: m, n: n, k: k, rows: rows)
        } else {
            tileRows(x, w, y, m: m, n: n, k: k, rows: rows, staging: staging)
        }
    }

    /// Each weight row once, against up to four activation rows at a time.
    @inline(__always)
    static func streamRows<W: StoredFloat>(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<W>, _ y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, rows: Range<Int>
    ) {
        for j in rows {
            let wj = w + j * k
            var i = 0
            while i + 4 <= m {
                tile4x1(x + i * k, wj, y + i * n + j, n: n, k: k)
                i += 4
            }
            while i < m {
                y[i * n + j] = dot(x + i * k, wj, k)
                i += 1
            }
        }
    }

    /// Four activation rows against one weight row.
    @inline(__always)
    static func tile4x1<W: StoredFloat>(_ x: UnsafePointer<Float>, _ w: UnsafePointer<W>, _ y: UnsafeMutablePointer<Float>, n: Int, k: Int) {
        let k16 = k & ~15
        let x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var t = 0
        while t < k16 {
            let wv = W.load16(w + t)
            a0.addProduct(load(x0 + t), wv)
            a1.addProduct(load(x1 + t), wv)
            a2.addProduct(load(x2 + t), wv)
            a3.addProduct(load(x3 + t), wv)
            t += 16
        }
        y[0] = VectorOps.laneSum(a0) + tail(x0, w, from: k16, to: k)
        y[n] = VectorOps.laneSum(a1) + tail(x1, w, from: k16, to: k)
        y[2 * n] = VectorOps.laneSum(a2) + tail(x2, w, from: k16, to: k)
        y[3 * n] = VectorOps.laneSum(a3) + tail(x3, w, from: k16, to: k)
    }

    /// Blocks of 16 weight rows in 4 x 4 register tiles.
    @inline(__always)
    static func tileRows<W: StoredFloat>(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<W>, _ y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, rows: Range<Int>, staging: UnsafeMutableBufferPointer<Float>? = nil
    ) {
        // Weight rows in blocks of 16 so a block (16 x k) stays in L1/L2 while all
        // activation rows stream past it. With `staging`, each block is first copied there
        // (widened to F32) in one sequential pass: weights that come from DRAM are then read
        // as a single stream instead of four interleaved ones (same values, same sums).
        var block = rows.lowerBound
        while block < rows.upperBound {
            let blockEnd = min(block + 16, rows.upperBound)
            if let staging, (blockEnd - block) * k <= staging.count {
                W.widen(w + block * k, into: staging.baseAddress!, count: (blockEnd - block) * k)
                tileBlock(x, UnsafePointer(staging.baseAddress!), y + block, m: m, n: n, k: k, columns: blockEnd - block)
            } else {
                tileBlock(x, w + block * k, y + block, m: m, n: n, k: k, columns: blockEnd - block)
            }
            block = blockEnd
        }
    }

    /// All `m` activation rows against `columns` weight rows starting at `w`, into the
    /// matching `columns` of `y` (row stride `n`).
    @inline(__always)
    static func tileBlock<W: StoredFloat>(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<W>, _ y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, columns: Int
    ) {
        var i = 0
        while i + 4 <= m {
            var j = 0
            while j + 4 <= columns {
                tile4x4(x + i * k, w + j * k, y + i * n + j, n: n, k: k)
                j += 4
            }
            while j < columns {
                for r in 0..<4 { y[(i + r) * n + j] = dot(x + (i + r) * k, w + j * k, k) }
                j += 1
            }
            i += 4
        }
        while i < m {
            var j = 0
            while j + 4 <= columns {
                tile1x4(x + i * k, w + j * k, y + i * n + j, k: k)
                j += 4
            }
            while j < columns {
                y[i * n + j] = dot(x + i * k, w + j * k, k)
                j += 1
            }
            i += 1
        }
    }

    /// One activation row against four weight rows: four independent accumulators (one
    /// would wait on its own multiply-adds), each summed like `dot`.
    @inline(__always)
    static func tile1x4<W: StoredFloat>(_ x: UnsafePointer<Float>, _ w: UnsafePointer<W>, _ y: UnsafeMutablePointer<Float>, k: Int) {
        let k16 = k & ~15
        let w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var t = 0
        while t < k16 {
            let u = load(x + t)
            a0.addProduct(u, W.load16(w0 + t))
            a1.addProduct(u, W.load16(w1 + t))
            a2.addProduct(u, W.load16(w2 + t))
            a3.addProduct(u, W.load16(w3 + t))
            t += 16
        }
        y[0] = VectorOps.laneSum(a0) + tail(x, w0, from: k16, to: k)
        y[1] = VectorOps.laneSum(a1) + tail(x, w1, from: k16, to: k)
        y[2] = VectorOps.laneSum(a2) + tail(x, w2, from: k16, to: k)
        y[3] = VectorOps.laneSum(a3) + tail(x, w3, from: k16, to: k)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// The scalar tail `Σ_{k16 ≤ t < k}`, added after the horizontal sum.
    @inline(__always)
    static func tail<W: StoredFloat>(_ a: UnsafePointer<Float>, _ b: UnsafePointer<W>, from start: Int, to end: Int) -> Float {
        var s: Float = 0
        var t = start
        while t < end {
            s = (a[t] * W.float(b, t)) + s
            t += 1
        }
        return s
    }

    /// One output element; the reference order every tile reproduces.
    @inline(__always)
    static func dot<W: StoredFloat>(_ a: UnsafePointer<Float>, _ b: UnsafePointer<W>, _ k: Int) -> Float {
        let k16 = k & ~15
        var acc = SIMD16<Float>()
        var t = 0
        while t < k16 {
            acc.addProduct(load(a + t), W.load16(b + t))
            t += 16
        }
        return VectorOps.laneSum(acc) + tail(a, b, from: k16, to: k)
    }

    /// Four activation rows against four weight rows: 16 accumulators, 8 loads per 16 FMAs.
    @inline(__always)
    static func tile4x4<W: StoredFloat>(_ x: UnsafePointer<Float>, _ w: UnsafePointer<W>, _ y: UnsafeMutablePointer<Float>, n: Int, k: Int) {
        let k16 = k & ~15
        let x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k
        let w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
        var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
        var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
        var t = 0
        while t < k16 {
            let v0 = W.load16(w0 + t), v1 = W.load16(w1 + t), v2 = W.load16(w2 + t), v3 = W.load16(w3 + t)
            let u0 = load(x0 + t)
            a00.addProduct(u0, v0); a01.addProduct(u0, v1); a02.addProduct(u0, v2); a03.addProduct(u0, v3)
            let u1 = load(x1 + t)
            a10.addProduct(u1, v0); a11.addProduct(u1, v1); a12.addProduct(u1, v2); a13.addProduct(u1, v3)
            let u2 = load(x2 + t)
            a20.addProduct(u2, v0); a21.addProduct(u2, v1); a22.addProduct(u2, v2); a23.addProduct(u2, v3)
            let u3 = load(x3 + t)
            a30.addProduct(u3, v0); a31.addProduct(u3, v1); a32.addProduct(u3, v2); a33.addProduct(u3, v3)
            t += 16
        }
        y[0] = VectorOps.laneSum(a00) + tail(x0, w0, from: k16, to: k)
        y[1] = VectorOps.laneSum(a01) + tail(x0, w1, from: k16, to: k)
        y[2] = VectorOps.laneSum(a02) + tail(x0, w2, from: k16, to: k)
        y[3] = VectorOps.laneSum(a03) + tail(x0, w3, from: k16, to: k)
        y[n] = VectorOps.laneSum(a10) + tail(x1, w0, from: k16, to: k)
        y[n + 1] = VectorOps.laneSum(a11) + tail(x1, w1, from: k16, to: k)
        y[n + 2] = VectorOps.laneSum(a12) + tail(x1, w2, from: k16, to: k)
        y[n + 3] = VectorOps.laneSum(a13) + tail(x1, w3, from: k16, to: k)
        y[2 * n] = VectorOps.laneSum(a20) + tail(x2, w0, from: k16, to: k)
        y[2 * n + 1] = VectorOps.laneSum(a21) + tail(x2, w1, from: k16, to: k)
        y[2 * n + 2] = VectorOps.laneSum(a22) + tail(x2, w2, from: k16, to: k)
        y[2 * n + 3] = VectorOps.laneSum(a23) + tail(x2, w3, from: k16, to: k)
        y[3 * n] = VectorOps.laneSum(a30) + tail(x3, w0, from: k16, to: k)
        y[3 * n + 1] = VectorOps.laneSum(a31) + tail(x3, w1, from: k16, to: k)
        y[3 * n + 2] = VectorOps.laneSum(a32) + tail(x3, w2, from: k16, to: k)
        y[3 * n + 3] = VectorOps.laneSum(a33) + tail(x3, w3, from: k16, to: k)
    }
}
