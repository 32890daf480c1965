import Foundation
import Testing
@testable import Swiftlet

/// The super-block formats (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS): dequantizers and dot
/// products against scalar references written here from ggml's block layouts, the encoder's
/// error, batch invariance and path agreement on every CPU path.
@Suite("K-quant kernels")
struct KQuantKernelTests {
    static let types: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs]
    static let book: [Float] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    // ------------------------------------------------------------ reference dequantizers --

    /// One super-block of `type` at `b` decoded element by element from the layout, with the
    /// float operations of the `gguf` package: (d·sc)·q − (dmin·mn).
    static func referenceBlock(_ type: GGMLType, _ b: [UInt8]) -> [Float] {
        func half(_ at: Int) -> Float { Float(Float16(bitPattern: UInt16(b[at]) | UInt16(b[at + 1]) << 8)) }
        var out = [Float](repeating: 0, count: 256)
        switch type {
        case .q2_K:
            let d = half(80), dmin = half(82)
            for e in 0..<256 {
                let n = e / 128, s = (e / 32) % 4, t = e % 32, g = e / 16
                let q = Float((b[16 + 32 * n + t] >> (2 * s)) & 3)
                out[e] = d * Float(b[g] & 15) * q - dmin * Float(b[g] >> 4)
            }
        case .q3_K:
            let d = half(108)
            for e in 0..<256 {
                let n = e / 128, s = (e / 32) % 4, t = e % 32, i = e / 16
                let low = Int((b[32 + 32 * n + t] >> (2 * s)) & 3), high = Int((b[t] >> (e / 32)) & 1)
                let scaleLow = i < 8 ? Int(b[96 + i] & 15) : Int(b[96 + i - 8] >> 4)
                let scaleHigh = Int((b[96 + 8 + i % 4] >> (2 * (i / 4))) & 3)
                out[e] = d * Float((scaleLow | scaleHigh << 4) - 32) * Float(low - (high == 1 ? 0 : 4))
            }
        case .q4_K, .q5_K:
            let d = half(0), dmin = half(2), s = Array(b[4..<16])
            for e in 0..<256 {
                let j = e / 32, c = e / 64, h = (e / 32) % 2, t = e % 32
                let qsStart = type == .q5_K ? 48 : 16
                var q = Int((b[qsStart + 32 * c + t] >> (4 * h)) & 15)
                if type == .q5_K { q |= Int((b[16 + t] >> j) & 1) << 4 }
                let sc = j < 4 ? Int(s[j] & 63) : Int(s[j + 4] & 15) | Int(s[j - 4] >> 6) << 4
                let mn = j < 4 ? Int(s[j + 4] & 63) : Int(s[j + 4] >> 4) | Int(s[j] >> 6) << 4
                out[e] = d * Float(sc) * Float(q) - dmin * Float(mn)
            }
        case .q6_K:
            let d = half(208)
            for e in 0..<256 {
                let n = e / 128, within = e % 128
                let low = Int((b[64 * n + within % 64] >> (4 * (within / 64))) & 15)
                let high = Int((b[128 + 32 * n + within % 32] >> (2 * (within / 32))) & 3)
                out[e] = d * Float(Int8(bitPattern: b[192 + e / 16])) * Float((low | high << 4) - 32)
            }
        default:  // IQ4_XS
            let d = half(0), high = UInt16(b[2]) | UInt16(b[3]) << 8
            for e in 0..<256 {
                let j = e / 32, h = (e / 16) % 2, t = e % 16
                let ls = Int((b[4 + j / 2] >> (4 * (j % 2))) & 15) | Int((high >> (2 * j)) & 3) << 4
                out[e] = d * Float(ls - 32) * book[Int((b[8 + 16 * j + t] >> (4 * h)) & 15)]
            }
        }
        return out
    }

    /// Random bytes with the half-precision scales replaced by small finite values.
    static func randomBlocks(_ type: GGMLType, count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var bytes = (0..<(count * type.blockBytes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let halves: [Int] = switch type {
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: [0]
        }
        for block in 0..<count {
            for at in halves {
                let bits = Float16(rng.nextFloat() * 0.02 + 1e-4).bitPattern
                bytes[block * type.blockBytes + at] = UInt8(bits & 0xFF)
                bytes[block * type.blockBytes + at + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    @Test(arguments: types)
    func dequantizerMatchesReference(type: GGMLType) {
        let blocks = 6
        let bytes = Self.randomBlocks(type, count: blocks, seed: UInt64(type.rawValue))
        var got = [Float](repeating: .nan, count: blocks * 256)
        bytes.withUnsafeBytes { WeightFormat(type)!.dequantizeRow($0.baseAddress!, into: &got, count: blocks * 256) }
        var expected: [Float] = []
        for b in 0..<blocks { expected += Self.referenceBlock(type, Array(bytes[(b * type.blockBytes)..<((b + 1) * type.blockBytes)])) }
        let same = zip(got, expected).allSatisfy { $0.bitPattern == $1.bitPattern }
        #expect(same, "\(type.name): first difference at \(got.indices.first { got[$0].bitPattern != expected[$0].bitPattern } ?? -1)")
    }

    // ---------------------------------------------------------------------- the encoder --

    /// Relative RMS error of encode → dequantize on Gaussian-like values.
    @Test(arguments: zip(types, [0.40, 0.20, 0.11, 0.055, 0.03, 0.10]))
    func quantizerErrorIsBounded(type: GGMLType, bound: Double) throws {
        var rng = SeededGenerator(seed: 77)
        let count = 256 * 64
        let values: [Float] = (0..<count).map { _ in (0..<4).reduce(Float(0)) { s, _ in s + rng.nextFloat() - 0.5 } }
        let bytes = try WeightQuantizer.encode(values, columns: 1024, as: type)
        #expect(bytes.count == count / 256 * type.blockBytes)
        var back = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { WeightFormat(type)!.dequantizeRow($0.baseAddress!, into: &back, count: count) }
        var error = 0.0, energy = 0.0
        for (v, w) in zip(values, back) {
            error += Double(v - w) * Double(v - w)
            energy += Double(v) * Double(v)
        }
        let relative = (error / energy).squareRoot()
        #expect(relative < bound, "\(type.name): relative RMS error \(relative)")
        #expect(relative > bound / 8, "\(type.name): error \(relative) is implausibly small for the format")
        // All zeros encode to zeros.
        let zeros = try WeightQuantizer.encode([Float](repeating: 0, count: 256), columns: 256, as: type)
        zeros.withUnsafeBytes { WeightFormat(type)!.dequantizeRow($0.baseAddress!, into: &back, count: 256) }
        #expect(back[0..<256].allSatisfy { $0 == 0 })
    }

    // ------------------------------------------------------------------ the dot product --

    /// The activations as the kernels quantize them (per 256: da = amax / 127, q = x / da
    /// rounded to nearest even, |q| <= 127), written out from the documented rule.
    static func referenceActivations(_ x: ArraySlice<Float>) -> (q: [Int], scales: [Double]) {
        var q: [Int] = [], scales: [Double] = []
        let values = Array(x)
        for start in stride(from: 0, to: values.count, by: 256) {
            let block = values[start..<(start + 256)]
            let amax = block.reduce(Float(0)) { max($0, abs($1)) }
            let d: Float = amax > 1e-30 ? amax / 127 : 0, id: Float = amax > 1e-30 ? 127 / amax : 0
            scales.append(Double(d))
            for v in block { q.append(Int(min(127, max(-127, v * id)).rounded(.toNearestOrEven))) }
        }
        return (q, scales)
    }

    /// Activation rows are the same bytes on every path and whether or not their rows are
    /// split over threads, for both 8-bit layouts (32- and 256-element blocks), NaN,
    /// infinities, zeros, negative zero and tiny values included.
    @Test func activationRowsAreTheSameBytesOnEveryPath() throws {
        let (m, k) = (37, 768)
        var x = KernelTests.randomRows(m * k, seed: 8)
        x[5] = .nan
        x[300] = .infinity
        x[700] = -1e30
        for i in 1024..<1280 { x[i] = 0 }
        x[2000] = -0.0
        x[3000] = 1e-38
        let formats = [WeightFormat(.q8_0)!, WeightFormat(.q4_K)!]
        var reference: [[UInt8]]?
        for path in KernelTests.paths {
            for threads in [1, 2, 3] {
                let input = try ActivationBuffer(capacity: m, columns: k, formats: formats)
                input.floats.update(from: x, count: m * k)
                input.prepare(rows: m, kernels: Kernels(path: path), pool: ThreadPool(threadCount: threads))
                let bytes = formats.map { format in
                    Array(UnsafeRawBufferPointer(start: input.rows(for: format), count: m * format.activationRowBytes(columns: k)))
                }
                if let reference {
                    #expect(bytes == reference, "\(path), \(threads) threads")
                } else {
                    reference = bytes
                }
            }
        }
    }

    /// Against Σ_b da_b · Σ_e w[e] · q[e] in float64 over the dequantized weights: the kernels
    /// differ from it by float rounding only.
    @Test(arguments: types)
    func matrixMultiplyMatchesReferenceDot(type: GGMLType) throws {
        for (m, n, k) in [(1, 4, 256), (3, 5, 512), (9, 33, 768), (17, 7, 1024)] {
            let w = try KernelTests.EncodedMatrix(type: type, rows: n, columns: k, seed: 21)
            let x = KernelTests.randomRows(m * k, seed: 22)
            let activations = (0..<m).map { Self.referenceActivations(x[($0 * k)..<(($0 + 1) * k)]) }
            for path in KernelTests.paths {
                let y = KernelTests.product(x, m: m, w, kernels: Kernels(path: path))
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var expected = 0.0, magnitude = 0.0
                        for b in 0..<(k / 256) {
                            var dot = 0.0, size = 0.0
                            for e in (256 * b)..<(256 * b + 256) {
                                let term = Double(w.values[j * k + e]) * Double(activations[i].q[e])
                                dot += term
                                size += abs(term)
                            }
                            expected += dot * activations[i].scales[b]
                            magnitude += size * activations[i].scales[b]
                        }
                        worst = max(worst, abs(Double(y[i * n + j]) - expected) / max(magnitude, 1e-6))
                    }
                }
                #expect(worst < 2e-6, "\(type.name) \(path) m \(m) n \(n) k \(k): worst relative error \(worst)")
            }
        }
    }

    /// Every output row is bit-identical whatever the number of rows multiplied with it, the
    /// thread split and the walk.
    @Test(arguments: types)
    func matrixMultiplyIsBatchInvariant(type: GGMLType) throws {
        let (n, k, m) = (37, 512, 70)
        let w = try KernelTests.EncodedMatrix(type: type, rows: n, columns: k, seed: 4)
        let x = KernelTests.randomRows(m * k, seed: 3)
        for path in KernelTests.paths {
            let kernels = Kernels(path: path)
            let full = KernelTests.product(x, m: m, w, kernels: kernels)
            for (rows, threads, fromMemory) in [(1, 1, false), (2, 2, true), (3, 3, false), (5, 1, true), (8, 2, true), (9, 2, false),
                                                (16, 3, true), (64, 2, true)] {
                var part: [Float] = []
                var start = 0
                while start < m {
                    let count = min(rows, m - start)
                    part += KernelTests.product(Array(x[(start * k)..<((start + count) * k)]), m: count, w, kernels: kernels,
                                                threads: threads, fromMemory: fromMemory)
                    start += count
                }
                let same = zip(full, part).allSatisfy { $0.bitPattern == $1.bitPattern }
                #expect(same, "\(type.name) \(path): rows \(rows), threads \(threads), from memory \(fromMemory)")
            }
        }
    }

    @Test(arguments: types)
    func pathsAgree(type: GGMLType) throws {
        let (m, n, k) = (9, 40, 768)
        let w = try KernelTests.EncodedMatrix(type: type, rows: n, columns: k, seed: 11)
        let x = KernelTests.randomRows(m * k, seed: 12)
        let results = KernelTests.paths.map { KernelTests.product(x, m: m, w, kernels: Kernels(path: $0)) }
        for result in results.dropFirst() {
            let worst = zip(results[0], result).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "\(type.name): paths differ by \(worst)")
        }
    }

    /// One input buffer read by a Q8_0 and a Q4_K matrix (a mixed file) holds both
    /// activation kinds; each product equals the one from a buffer of its own kind.
    @Test func mixedActivationKindsShareOneBuffer() throws {
        let (m, n, k) = (3, 8, 512)
        let q8 = try KernelTests.EncodedMatrix(type: .q8_0, rows: n, columns: k, seed: 5)
        let q4k = try KernelTests.EncodedMatrix(type: .q4_K, rows: n, columns: k, seed: 6)
        let x = KernelTests.randomRows(m * k, seed: 7)
        for path in KernelTests.paths {
            let kernels = Kernels(path: path)
            let input = try ActivationBuffer(capacity: m, columns: k, formats: [q8.format, q4k.format])
            input.floats.update(from: x, count: m * k)
            input.prepare(rows: m, kernels: kernels)
            let pool = ThreadPool(threadCount: 2)
            for w in [q8, q4k] {
                var y = [Float](repeating: .nan, count: m * n)
                w.withMatrix { matrix in
                    y.withUnsafeMutableBufferPointer { MatrixMultiply.multiply(input, matrix, into: $0.baseAddress!, m: m, pool: pool, kernels: kernels) }
                }
                let alone = KernelTests.product(x, m: m, w, kernels: kernels)
                #expect(zip(y, alone).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(w.format) \(path)")
            }
        }
    }
}
