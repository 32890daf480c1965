import Foundation
import Testing
@testable import Swiftlet

@Suite("Kernels")
struct KernelTests {
    static func randomBuffer(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
        var rng = SeededGenerator(seed: seed)
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        for i in 0..<count { p[i] = rng.nextFloat() * 2 - 1 }
        return p
    }

    @Test(arguments: [(1, 4, 16), (3, 5, 17), (4, 16, 64), (7, 33, 288), (16, 20, 100), (33, 9, 8), (5, 64, 172)])
    func matrixMultiplyMatchesNaiveLoop(m: Int, n: Int, k: Int) {
        let pool = ThreadPool(threadCount: 2)
        let x = Self.randomBuffer(m * k, seed: 1), w = Self.randomBuffer(n * k, seed: 2)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { x.deallocate(); w.deallocate(); y.deallocate() }
        MatrixMultiply.multiply(x, w, into: y, m: m, n: n, k: k, pool: pool)
        for i in 0..<m {
            for j in 0..<n {
                var expected = 0.0
                for t in 0..<k { expected += Double(x[i * k + t]) * Double(w[j * k + t]) }
                #expect(abs(Double(y[i * n + j]) - expected) < 1e-4 * Double(k), "y[\(i)][\(j)]")
            }
        }
    }

    /// Every output row is bit-identical whatever the number of rows multiplied with it.
    @Test func matrixMultiplyIsBatchInvariant() {
        let pool = ThreadPool(threadCount: 2)
        let (n, k, m) = (37, 100, 19)
        let x = Self.randomBuffer(m * k, seed: 3), w = Self.randomBuffer(n * k, seed: 4)
        let full = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        let part = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { x.deallocate(); w.deallocate(); full.deallocate(); part.deallocate() }
        MatrixMultiply.multiply(x, w, into: full, m: m, n: n, k: k, pool: pool)
        for streamingRows in [0, 2, 8, 64] {
            for rows in [1, 2, 3, 4, 5, 8] {
                var start = 0
                while start < m {
                    let count = min(rows, m - start)
                    MatrixMultiply.multiply(x + start * k, w, into: part + start * n, m: count, n: n, k: k, pool: pool,
                                            streamingRows: streamingRows, staged: streamingRows == 8)
                    start += count
                }
                for i in 0..<(m * n) { #expect(full[i].bitPattern == part[i].bitPattern, "rows \(rows), streaming \(streamingRows), element \(i)") }
            }
        }
    }

    /// F16 weights multiplied as stored give exactly the products of their F32 copies, on
    /// every kernel path (streaming, tiles, staged tiles) and batch size.
    @Test func halfWeightsMultiplyLikeTheirFloatCopies() {
        let pool = ThreadPool(threadCount: 2)
        let (n, k) = (37, 100)
        var rng = SeededGenerator(seed: 9)
        let halves = UnsafeMutablePointer<Float16>.allocate(capacity: n * k)  // (n, k)
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: n * k)  // (n, k), the same values
        defer { halves.deallocate(); floats.deallocate() }
        for i in 0..<(n * k) {
            halves[i] = Float16(rng.nextFloat() * 2 - 1)
            floats[i] = Float(halves[i])
        }
        for m in [1, 2, 3, 5, 8, 13, 33] {
            let x = Self.randomBuffer(m * k, seed: UInt64(m))
            let expected = UnsafeMutablePointer<Float>.allocate(capacity: m * n), got = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            defer { x.deallocate(); expected.deallocate(); got.deallocate() }
            for (streamingRows, staged) in [(0, false), (8, false), (0, true), (64, false)] {
                MatrixMultiply.multiply(x, floats, into: expected, m: m, n: n, k: k, pool: pool, streamingRows: streamingRows, staged: staged)
                MatrixMultiply.multiply(x, halves, into: got, m: m, n: n, k: k, pool: pool, streamingRows: streamingRows, staged: staged)
                for i in 0..<(m * n) { #expect(expected[i].bitPattern == got[i].bitPattern, "m \(m), streaming \(streamingRows), staged \(staged), \(i)") }
            }
        }
    }

    @Test func vectorExpIsAccurate() {
        var worst: Float = 0
        var x: Float = -87
        while x < 87.9 {
            let lanes = SIMD16<Float>((0..<16).map { x + Float($0) * 0.0037 })
            let e = VectorOps.exp(lanes)
            for i in 0..<16 {
                let reference = Foundation.exp(Double(lanes[i]))
                worst = max(worst, Float(abs(Double(e[i]) - reference) / reference))
            }
            x += 0.173
        }
        #expect(worst < 1e-6, "worst relative error \(worst)")
        let edge = VectorOps.exp(SIMD16<Float>(repeating: -200))
        #expect(edge[0] == 0)
        #expect(VectorOps.exp(SIMD16<Float>(repeating: 100))[0] > 1e38)
    }

    @Test func rmsNormSoftmaxAndSwiGLUMatchFormulas() {
        let count = 37
        let x = Self.randomBuffer(count, seed: 5), weight = Self.randomBuffer(count, seed: 6)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { x.deallocate(); weight.deallocate(); out.deallocate() }
        VectorOps.rmsNorm(x, weight: weight, epsilon: 1e-5, into: out, count: count)
        var ss = 0.0
        for i in 0..<count { ss += Double(x[i]) * Double(x[i]) }
        let scale = 1 / (ss / Double(count) + 1e-5).squareRoot()
        for i in 0..<count { #expect(abs(Double(out[i]) - Double(x[i]) * scale * Double(weight[i])) < 1e-5) }

        let values = (0..<count).map { x[$0] * 10 }
        out.update(from: values, count: count)
        VectorOps.softmax(out, count: count)
        let maxValue = values.max()!
        let denominator = values.reduce(0.0) { $0 + Foundation.exp(Double($1 - maxValue)) }
        for i in 0..<count {
            #expect(abs(Double(out[i]) - Foundation.exp(Double(values[i] - maxValue)) / denominator) < 1e-6)
        }

        let gate = Self.randomBuffer(count, seed: 7), up = Self.randomBuffer(count, seed: 8)
        defer { gate.deallocate(); up.deallocate() }
        let expected = (0..<count).map { i in Double(gate[i]) / (1 + Foundation.exp(-Double(gate[i] * 4))) * 4 * Double(up[i]) }
        for i in 0..<count { gate[i] *= 4 }
        VectorOps.swiGLU(gate, up: up, count: count)
        for i in 0..<count { #expect(abs(Double(gate[i]) - expected[i]) < 1e-5) }
    }

    @Test func ropeRotatesAdjacentPairs() {
        var x: [Float] = [1, 0, 0, 1, 2, 3]
        let angles: [Double] = [0.5, 1.0, -2.0]
        let cosines = angles.map { Float(cos($0)) }, sines = angles.map { Float(sin($0)) }
        VectorOps.rope(&x, cos: cosines, sin: sines, headDimension: 6)
        #expect(abs(x[0] - Float(cos(0.5))) < 1e-6 && abs(x[1] - Float(sin(0.5))) < 1e-6)
        #expect(abs(x[2] + Float(sin(1.0))) < 1e-6 && abs(x[3] - Float(cos(1.0))) < 1e-6)
        #expect(abs(x[4] - Float(2 * cos(-2.0) - 3 * sin(-2.0))) < 1e-5)
    }

    @Test func threadPoolRunsEveryIndexOnce() {
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threadCount: threads)
            for _ in 0..<200 {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: threads)
                hits.initialize(repeating: 0, count: threads)
                pool.run { hits[$0] += 1 }
                #expect((0..<threads).allSatisfy { hits[$0] == 1 })
                hits.deallocate()
            }
            var covered = Set<Int>()
            for index in 0..<threads { covered.formUnion(pool.partition(103, index: index, granularity: 4)) }
            #expect(covered == Set(0..<103))
        }
    }

    @Test func dequantizationMatchesFormats() {
        // Q8_0: scale 0.5 (f16 0x3800), values -128...127 slice.
        var q8: [UInt8] = [0x00, 0x38]
        q8 += (0..<32).map { (i: Int) -> UInt8 in UInt8(bitPattern: Int8(i - 16)) }
        var out = [Float](repeating: 0, count: 32)
        q8.withUnsafeBytes { Dequantize.decode($0, type: .q8_0, count: 32, into: &out) }
        let q8Expected: [Float] = (0..<32).map { (i: Int) -> Float in Float(i - 16) * 0.5 }
        #expect(out == q8Expected)
        // Q4_0: scale 2 (f16 0x4000), nibbles lo = j % 16, hi = 15 - j % 16.
        var q4: [UInt8] = [0x00, 0x40]
        q4 += (0..<16).map { (j: Int) -> UInt8 in UInt8(j) | (UInt8(15 - j) << 4) }
        q4.withUnsafeBytes { Dequantize.decode($0, type: .q4_0, count: 32, into: &out) }
        let low: [Float] = (0..<16).map { (j: Int) -> Float in Float(j - 8) * 2 }
        let high: [Float] = (0..<16).map { (j: Int) -> Float in Float(7 - j) * 2 }
        #expect(Array(out[0..<16]) == low)
        #expect(Array(out[16..<32]) == high)
        // F16 and BF16 of 1.5.
        var half: [UInt8] = [0x00, 0x3E]
        half.withUnsafeBytes { Dequantize.decode($0, type: .f16, count: 1, into: &out) }
        #expect(out[0] == 1.5)
        half = [0xC0, 0x3F]
        half.withUnsafeBytes { Dequantize.decode($0, type: .bf16, count: 1, into: &out) }
        #expect(out[0] == 1.5)
    }
}
