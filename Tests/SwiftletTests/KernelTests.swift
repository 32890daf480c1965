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

    /// Every path the CPU has (a path it lacks would silently run a lower one).
    static let paths: [KernelPath] = KernelPath.allCases.filter { $0 <= KernelPath.best }

    /// A random `(rows, columns)` weight matrix encoded as `type`, with the float values the
    /// encoding stands for (its exact dequantization).
    struct EncodedMatrix {
        let bytes: [UInt8]
        let values: [Float]  // (rows, columns), dequantized
        let format: WeightFormat
        let rows: Int, columns: Int

        init(type: GGMLType, rows: Int, columns: Int, seed: UInt64) throws {
            var rng = SeededGenerator(seed: seed)
            let raw = (0..<(rows * columns)).map { _ in rng.nextFloat() * 2 - 1 }
            let bytes = try WeightQuantizer.encode(raw, columns: columns, as: type)
            let format = WeightFormat(type)!
            var values = [Float](repeating: 0, count: rows * columns)
            let rowBytes = format.rowBytes(columns: columns)
            bytes.withUnsafeBytes { b in
                values.withUnsafeMutableBufferPointer { v in
                    for r in 0..<rows { format.dequantizeRow(b.baseAddress! + r * rowBytes, into: v.baseAddress! + r * columns, count: columns) }
                }
            }
            (self.bytes, self.format, self.values, self.rows, self.columns) = (bytes, format, values, rows, columns)
        }

        func withMatrix<R>(_ body: (WeightMatrix) -> R) -> R {
            bytes.withUnsafeBytes { body(WeightMatrix(elements: $0.baseAddress!, format: format, rows: rows, columns: columns)) }
        }
    }

    /// `y (m, n)` of `x (m, k)` times the matrix on `kernels` with `threads` threads.
    static func product(_ x: [Float], m: Int, _ w: EncodedMatrix, kernels: Kernels, threads: Int = 2, fromMemory: Bool = false) -> [Float] {
        let input = try! ActivationBuffer(capacity: m, columns: w.columns, formats: [w.format])
        input.floats.update(from: x, count: m * w.columns)
        input.prepare(rows: m, kernels: kernels)
        var y = [Float](repeating: .nan, count: m * w.rows)
        let pool = ThreadPool(threadCount: threads)
        w.withMatrix { matrix in
            y.withUnsafeMutableBufferPointer { MatrixMultiply.multiply(input, matrix, into: $0.baseAddress!, m: m, pool: pool, fromMemory: fromMemory, kernels: kernels) }
        }
        return y
    }

    static func randomRows(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in rng.nextFloat() * 2 - 1 }
    }

    static let allTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl]

    /// Against a float64 loop over the dequantized weights: exact formats within float
    /// rounding; block formats within the error of quantizing the activations to 8 bits.
    @Test(arguments: allTypes)
    func matrixMultiplyMatchesNaiveLoop(type: GGMLType) throws {
        for (m, n, k) in [(1, 4, 32), (3, 5, 64), (4, 16, 96), (7, 33, 288), (16, 20, 160), (33, 9, 32), (5, 64, 192), (2, 7, 224),
                          (1, 6, 384), (9, 5, 128)] {
            let w = try EncodedMatrix(type: type, rows: n, columns: k, seed: 2)
            let x = Self.randomRows(m * k, seed: 1)
            for path in Self.paths {
                let y = Self.product(x, m: m, w, kernels: Kernels(path: path))
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var expected = 0.0, scale = 0.0
                        for t in 0..<k {
                            expected += Double(x[i * k + t]) * Double(w.values[j * k + t])
                            scale += abs(Double(x[i * k + t]) * Double(w.values[j * k + t]))
                        }
                        worst = max(worst, abs(Double(y[i * n + j]) - expected) / max(scale, 1e-3))
                    }
                }
                let tolerance = w.format.activations == .floats ? 1e-6 : 1.5e-2
                #expect(worst < tolerance, "\(type.name) \(path) m \(m) n \(n) k \(k): worst relative error \(worst)")
            }
        }
    }

    /// Every output row is bit-identical whatever the number of rows multiplied with it, the
    /// thread split of the weight rows, and the walk (streaming or tiles, from memory or not).
    @Test(arguments: allTypes)
    func matrixMultiplyIsBatchInvariant(type: GGMLType) throws {
        let (n, k, m) = (37, 96, 70)
        let w = try EncodedMatrix(type: type, rows: n, columns: k, seed: 4)
        let x = Self.randomRows(m * k, seed: 3)
        for path in Self.paths {
            let kernels = Kernels(path: path)
            let full = Self.product(x, m: m, w, kernels: kernels)
            for (rows, threads, fromMemory) in [(1, 1, false), (1, 2, true), (2, 2, true), (3, 3, false), (3, 2, true), (4, 2, false), (5, 1, true), (7, 3, true), (8, 2, true),
                                                (9, 2, false), (10, 2, true), (11, 1, false), (16, 3, true), (33, 2, false), (64, 2, true)] {
                var part: [Float] = []
                var start = 0
                while start < m {
                    let count = min(rows, m - start)
                    part += Self.product(Array(x[(start * k)..<((start + count) * k)]), m: count, w, kernels: kernels, threads: threads,
                                         fromMemory: fromMemory)
                    start += count
                }
                let same = zip(full, part).allSatisfy { $0.bitPattern == $1.bitPattern }
                #expect(same, "\(type.name) \(path): rows \(rows), threads \(threads), from memory \(fromMemory)")
            }
        }
    }

    /// Long float rows (over 2 KiB) from memory take the far-pair walk at every batch size up
    /// to 16; each row's products stay bit-identical to the same row multiplied alone.
    @Test(arguments: [GGMLType.f32, .f16])
    func longFloatRowsFromMemoryAreBatchInvariant(type: GGMLType) throws {
        let (n, k) = (21, 1100)
        let w = try EncodedMatrix(type: type, rows: n, columns: k, seed: 12)
        for path in Self.paths {
            let kernels = Kernels(path: path)
            for m in [2, 8, 9, 16] {
                let x = Self.randomRows(m * k, seed: UInt64(40 + m))
                let batch = Self.product(x, m: m, w, kernels: kernels, threads: 2, fromMemory: true)
                var alone: [Float] = []
                for r in 0..<m { alone += Self.product(Array(x[(r * k)..<((r + 1) * k)]), m: 1, w, kernels: kernels, threads: 1, fromMemory: true) }
                #expect(zip(batch, alone).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(type.name) \(path) m \(m)")
            }
        }
    }

    /// F16 and BF16 weights multiplied as stored give exactly the products of their F32
    /// copies (widening is exact), on every path, walk and batch size.
    @Test(arguments: [GGMLType.f16, .bf16])
    func sixteenBitWeightsMultiplyLikeTheirFloatCopies(type: GGMLType) throws {
        let (n, k) = (37, 100)
        let halves = try EncodedMatrix(type: type, rows: n, columns: k, seed: 9)
        let copy = EncodedMatrixCopy(values: halves.values, rows: n, columns: k)
        for path in Self.paths {
            for m in [1, 2, 3, 5, 8, 13, 33, 64, 70] {
                let x = Self.randomRows(m * k, seed: UInt64(m))
                for fromMemory in [false, true] {
                    let expected = copy.product(x, m: m, kernels: Kernels(path: path), fromMemory: fromMemory)
                    let got = Self.product(x, m: m, halves, kernels: Kernels(path: path), fromMemory: fromMemory)
                    #expect(zip(expected, got).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(type.name) \(path) m \(m)")
                }
            }
        }
    }

    /// The F32 copy of a matrix's values, multiplied as F32.
    struct EncodedMatrixCopy {
        let values: [Float], rows: Int, columns: Int
        func product(_ x: [Float], m: Int, kernels: Kernels, fromMemory: Bool) -> [Float] {
            let format = WeightFormat(.f32)!
            let input = try! ActivationBuffer(capacity: m, columns: columns, formats: [format])
            input.floats.update(from: x, count: m * columns)
            var y = [Float](repeating: .nan, count: m * rows)
            let pool = ThreadPool(threadCount: 2)
            values.withUnsafeBufferPointer { v in
                let matrix = WeightMatrix(f32: v.baseAddress!, rows: rows, columns: columns)
                y.withUnsafeMutableBufferPointer { MatrixMultiply.multiply(input, matrix, into: $0.baseAddress!, m: m, pool: pool, fromMemory: fromMemory, kernels: kernels) }
            }
            return y
        }
    }

    /// The paths differ by rounding only; the two vector paths of the float formats hold the
    /// same sixteen lanes and agree bit for bit.
    @Test(arguments: allTypes)
    func pathsAgree(type: GGMLType) throws {
        let (m, n, k) = (9, 40, 288)
        let w = try EncodedMatrix(type: type, rows: n, columns: k, seed: 11)
        let x = Self.randomRows(m * k, seed: 12)
        let results = Self.paths.map { Self.product(x, m: m, w, kernels: Kernels(path: $0)) }
        for result in results.dropFirst() {
            let worst = zip(results[0], result).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "\(type.name): paths differ by \(worst)")
        }
        if w.format.activations == .floats, Self.paths.contains(.avx512) {
            let avx2 = Self.product(x, m: m, w, kernels: Kernels(path: .avx2))
            let avx512 = Self.product(x, m: m, w, kernels: Kernels(path: .avx512))
            #expect(zip(avx2, avx512).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(type.name): avx2 and avx512 differ")
        }
    }

    /// Q8_0 weights may hold -128 (a hostile or odd file); the products stay exact.
    @Test func blockWeightsAtTheEdgesOfTheirRange() {
        let k = 64
        var bytes: [UInt8] = []
        for _ in 0..<(k / 32) {
            bytes += [0x00, 0x3C]  // d = 1
            bytes += (0..<32).map { UInt8(bitPattern: Int8($0 % 2 == 0 ? -128 : 127)) }
        }
        let format = WeightFormat(.q8_0)!
        let x = (0..<k).map { Float(($0 % 5) - 2) * 0.5 }  // exactly representable after quantizing
        for path in Self.paths {
            let kernels = Kernels(path: path)
            let input = try! ActivationBuffer(capacity: 1, columns: k, formats: [format])
            input.floats.update(from: x, count: k)
            input.prepare(rows: 1, kernels: kernels)
            var y: Float = .nan
            bytes.withUnsafeBytes { b in
                let w = WeightMatrix(elements: b.baseAddress!, format: format, rows: 1, columns: k)
                MatrixMultiply.multiply(input, w, into: &y, m: 1, pool: ThreadPool(threadCount: 1), kernels: kernels)
            }
            let expected = (0..<k).reduce(0.0) { $0 + Double(x[$1]) * Double($1 % 2 == 0 ? -128 : 127) }
            #expect(abs(Double(y) - expected) < 1e-3 * abs(expected), "\(path): \(y) vs \(expected)")
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

    @Test(arguments: paths)
    func rmsNormSoftmaxAndGLUsMatchFormulas(path: KernelPath) {
        let kernels = Kernels(path: path)
        for count in [1, 7, 16, 37, 100] {
            Self.checkRowOps(count: count, kernels: kernels)
        }
    }

    static func checkRowOps(count: Int, kernels: Kernels) {
        let x = Self.randomBuffer(count, seed: 5), weight = Self.randomBuffer(count, seed: 6)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { x.deallocate(); weight.deallocate(); out.deallocate() }
        kernels.rmsNorm(x, weight: weight, epsilon: 1e-5, into: out, count: count)
        var ss = 0.0
        for i in 0..<count { ss += Double(x[i]) * Double(x[i]) }
        let scale = 1 / (ss / Double(count) + 1e-5).squareRoot()
        for i in 0..<count { #expect(abs(Double(out[i]) - Double(x[i]) * scale * Double(weight[i])) < 1e-5) }

        let values = (0..<count).map { x[$0] * 10 }
        out.update(from: values, count: count)
        kernels.softmax(out, count: count)
        let maxValue = values.max()!
        let denominator = values.reduce(0.0) { $0 + Foundation.exp(Double($1 - maxValue)) }
        for i in 0..<count {
            #expect(abs(Double(out[i]) - Foundation.exp(Double(values[i] - maxValue)) / denominator) < 1e-6)
        }

        let gate = Self.randomBuffer(count, seed: 7), up = Self.randomBuffer(count, seed: 8)
        defer { gate.deallocate(); up.deallocate() }
        let expected = (0..<count).map { i in Double(gate[i]) / (1 + Foundation.exp(-Double(gate[i] * 4))) * 4 * Double(up[i]) }
        for i in 0..<count { gate[i] *= 4 }
        kernels.swiGLU(gate, up: up, count: count)
        for i in 0..<count { #expect(abs(Double(gate[i]) - expected[i]) < 1e-5 * max(1, abs(expected[i]))) }

        let gate2 = Self.randomBuffer(count, seed: 17), up2 = Self.randomBuffer(count, seed: 18)
        defer { gate2.deallocate(); up2.deallocate() }
        let gelu = (0..<count).map { i -> Double in
            let g = Double(gate2[i]) * 3
            return 0.5 * g * (1 + tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g))) * Double(up2[i])
        }
        for i in 0..<count { gate2[i] *= 3 }
        kernels.geGLU(gate2, up: up2, count: count)
        for i in 0..<count { #expect(abs(Double(gate2[i]) - gelu[i]) < 1e-5 * max(1, abs(gelu[i])), "geglu \(i)") }

        let sum = Self.randomBuffer(count, seed: 19)
        defer { sum.deallocate() }
        let before = (0..<count).map { sum[$0] }
        kernels.add(x, to: sum, count: count)
        for i in 0..<count { #expect(sum[i] == before[i] + x[i]) }
    }

    /// F16 conversions are exact and round to nearest even on every path (all 65,536 halves).
    @Test(arguments: paths)
    func halfConversionsAreExact(path: KernelPath) {
        let kernels = Kernels(path: path)
        let halves = (0...UInt16.max).map { $0 }
        var floats = [Float](repeating: 0, count: halves.count)
        halves.withUnsafeBytes { h in floats.withUnsafeMutableBufferPointer { kernels.widenHalves(h.baseAddress!, into: $0.baseAddress!, count: halves.count) } }
        for (bits, value) in zip(halves, floats) where !Float16(bitPattern: bits).isNaN {
            #expect(value == Float(Float16(bitPattern: bits)), "widen \(bits)")
        }
        var rng = SeededGenerator(seed: 21)
        let samples = (0..<20_000).map { i -> Float in i < 4 ? [65520, 65519.9, 6e-8, -3e-8][i] : (rng.nextFloat() * 2 - 1) * Float(1 << (i % 24)) / 4096 }
        var narrowed = [UInt16](repeating: 0, count: samples.count)
        samples.withUnsafeBufferPointer { s in narrowed.withUnsafeMutableBytes { kernels.narrowToHalves(s.baseAddress!, into: $0.baseAddress!, count: samples.count) } }
        for (value, bits) in zip(samples, narrowed) { #expect(bits == Float16(value).bitPattern, "narrow \(value)") }
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

    @Test func threadPoolRunsEveryPartOnce() {
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threadCount: threads)
            // Back-to-back regions of changing size: a thread still finishing one region
            // must never take a part of the next.
            for round in 0..<20_000 {
                let parts = 1 + round % 13
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: parts)
                hits.initialize(repeating: 0, count: parts)
                pool.run(parts: parts) { part, thread in
                    precondition(thread >= 0 && thread < threads)
                    hits[part] += 1
                }
                #expect((0..<parts).allSatisfy { hits[$0] == 1 })
                hits.deallocate()
            }
            // Past the 20 bits of part number a claim word holds: run as several regions.
            let many = (1 << 20) + 5
            let counts = UnsafeMutablePointer<UInt8>.allocate(capacity: many)
            counts.initialize(repeating: 0, count: many)
            pool.run(parts: many) { part, _ in counts[part] &+= 1 }
            #expect((0..<many).allSatisfy { counts[$0] == 1 })
            counts.deallocate()
            for parts in [1, 3, pool.parts(103, granularity: 4)] {
                var covered = [Int]()
                for part in 0..<parts { covered += Array(pool.partition(103, part: part, of: parts, granularity: 4)) }
                #expect(covered == Array(0..<103))
            }
        }
    }

    /// A thread that stalls (here: sleeps, as one descheduled on a busy machine would) holds
    /// up only the part it is in: the caller takes the rest of its home range.
    @Test func threadPoolTakesAStalledThreadsParts() {
        let pool = ThreadPool(threadCount: 2)
        let parts = 8
        let owners = UnsafeMutablePointer<Int>.allocate(capacity: parts)
        defer { owners.deallocate() }
        owners.initialize(repeating: -1, count: parts)
        pool.run(parts: parts) { part, thread in
            owners[part] = thread
            if thread == 1 { usleep(200_000) }
        }
        #expect((0..<parts).allSatisfy { owners[$0] == 0 || owners[$0] == 1 })
        // A static split gives each thread its four; the worker ran at most one part.
        #expect((0..<parts).filter { owners[$0] == 0 }.count >= parts - 1)
        // With nobody stalling, each thread keeps to its home range (same rows every step).
        var quietRuns = 0
        for _ in 0..<50 {
            pool.run(parts: parts) { part, thread in owners[part] = thread; usleep(2_000) }
            if (0..<parts).allSatisfy({ owners[$0] == ($0 < parts / 2 ? 0 : 1) }) { quietRuns += 1 }
        }
        #expect(quietRuns > 0)
    }

    @Test func dequantizationMatchesFormats() {
        // Q8_0: scale 0.5 (f16 0x3800), values -128...127 slice.
        var q8: [UInt8] = [0x00, 0x38]
        q8 += (0..<32).map { (i: Int) -> UInt8 in UInt8(bitPattern: Int8(i - 16)) }
        var out = [Float](repeating: 0, count: 32)
        q8.withUnsafeBytes { WeightFormat(.q8_0)!.dequantizeRow($0.baseAddress!, into: &out, count: 32) }
        let q8Expected: [Float] = (0..<32).map { (i: Int) -> Float in Float(i - 16) * 0.5 }
        #expect(out == q8Expected)
        // Q4_0: scale 2 (f16 0x4000), nibbles lo = j % 16, hi = 15 - j % 16.
        var q4: [UInt8] = [0x00, 0x40]
        q4 += (0..<16).map { (j: Int) -> UInt8 in UInt8(j) | (UInt8(15 - j) << 4) }
        q4.withUnsafeBytes { WeightFormat(.q4_0)!.dequantizeRow($0.baseAddress!, into: &out, count: 32) }
        let low: [Float] = (0..<16).map { (j: Int) -> Float in Float(j - 8) * 2 }
        let high: [Float] = (0..<16).map { (j: Int) -> Float in Float(7 - j) * 2 }
        #expect(Array(out[0..<16]) == low)
        #expect(Array(out[16..<32]) == high)
        // F16 and BF16 of 1.5.
        var half: [UInt8] = [0x00, 0x3E]
        half.withUnsafeBytes { WeightFormat(.f16)!.dequantizeRow($0.baseAddress!, into: &out, count: 1) }
        #expect(out[0] == 1.5)
        half = [0xC0, 0x3F]
        half.withUnsafeBytes { WeightFormat(.bf16)!.dequantizeRow($0.baseAddress!, into: &out, count: 1) }
        #expect(out[0] == 1.5)
    }
}
