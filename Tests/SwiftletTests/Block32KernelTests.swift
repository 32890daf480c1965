import Foundation
import Testing
@testable import Swiftlet

/// Q4_1, Q5_0, Q5_1 and IQ4_NL: the kernels' dequantizers and dot products against scalar
/// reference versions written from ggml's block definitions (independently of the C code).
/// Batch invariance, paths agreeing and the float64 loop are in KernelTests (allTypes).
@Suite("Block32 formats")
struct Block32KernelTests {
    static let types: [GGMLType] = [.q4_1, .q5_0, .q5_1, .iq4_nl]

    /// The reference decoding of one block: levels (signed for Q5_0 and IQ4_NL), scale d,
    /// min m (0 without one).
    struct ReferenceBlock {
        let levels: [Int], d: Float, m: Float, hasMin: Bool

        init(_ bytes: ArraySlice<UInt8>, type: GGMLType) {
            let b = Array(bytes)
            func half(_ at: Int) -> Float { Float(Float16(bitPattern: UInt16(b[at]) | UInt16(b[at + 1]) << 8)) }
            func word(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) } }
            d = half(0)
            hasMin = type == .q4_1 || type == .q5_1
            m = hasMin ? half(2) : 0
            let qsOffset = [GGMLType.q4_1: 4, .q5_0: 6, .q5_1: 8, .iq4_nl: 2][type]!
            let qh: UInt32 = type == .q5_0 ? word(2) : type == .q5_1 ? word(4) : 0
            var levels = [Int](repeating: 0, count: 32)
            for e in 0..<32 {
                let byte = b[qsOffset + e % 16]
                var level = Int(e < 16 ? byte & 15 : byte >> 4)
                level |= Int((qh >> UInt32(e)) & 1) << 4
                switch type {
                case .q5_0: level -= 16
                case .iq4_nl: level = Int(WeightQuantizer.iq4nlGrid[level])
                default: break
                }
                levels[e] = level
            }
            self.levels = levels
        }

        /// ggml's dequantization: d * level, then + m, each rounded to float.
        var values: [Float] { levels.map { l in let v = d * Float(l); return hasMin ? v + m : v } }
    }

    /// Random blocks: any qs / qh bits, finite halves of moderate size.
    static func randomBlocks(_ type: GGMLType, count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var out: [UInt8] = []
        for _ in 0..<count {
            var block = (0..<type.blockBytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let d = Float16((rng.nextFloat() * 2 - 1) * 0.05), m = Float16((rng.nextFloat() * 2 - 1) * 0.5)
            block[0] = UInt8(d.bitPattern & 0xFF)
            block[1] = UInt8(d.bitPattern >> 8)
            if type == .q4_1 || type == .q5_1 {
                block[2] = UInt8(m.bitPattern & 0xFF)
                block[3] = UInt8(m.bitPattern >> 8)
            }
            out += block
        }
        return out
    }

    @Test(arguments: types)
    func dequantizationMatchesReference(type: GGMLType) {
        let blocks = 40
        let bytes = Self.randomBlocks(type, count: blocks, seed: 7)
        var got = [Float](repeating: .nan, count: blocks * 32)
        bytes.withUnsafeBytes { WeightFormat(type)!.dequantizeRow($0.baseAddress!, into: &got, count: blocks * 32) }
        var expected: [Float] = []
        for b in 0..<blocks {
            expected += ReferenceBlock(bytes[(b * type.blockBytes)..<((b + 1) * type.blockBytes)], type: type).values
        }
        #expect(zip(got, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(type.name)")
    }

    /// A hand-built block of each format decodes to the numbers its layout says.
    @Test func handBuiltBlocks() {
        func decode(_ bytes: [UInt8], _ type: GGMLType) -> [Float] {
            var out = [Float](repeating: .nan, count: 32)
            bytes.withUnsafeBytes { WeightFormat(type)!.dequantizeRow($0.baseAddress!, into: &out, count: 32) }
            return out
        }
        let nibbles: [UInt8] = (0..<16).map { (j: Int) -> UInt8 in UInt8(j) | UInt8(15 - j) << 4 }  // lo = j, hi = 15 - j
        let ramp: [Int] = Array(0..<16) + (0..<16).map { (j: Int) -> Int in 15 - j }  // the nibble of each element
        // Q4_1: d = 2 (0x4000), m = -1 (0xBC00).
        let q41 = decode([0x00, 0x40, 0x00, 0xBC] + nibbles, .q4_1)
        let q41Expected: [Float] = ramp.map { (l: Int) -> Float in Float(2 * l - 1) }
        #expect(q41 == q41Expected)
        // Q5_0: d = 0.5 (0x3800), high bits on for elements 0 and 31 only.
        let q50 = decode([0x00, 0x38, 0x01, 0x00, 0x00, 0x80] + nibbles, .q5_0)
        var levels = ramp
        levels[0] += 16
        levels[31] += 16
        let q50Expected: [Float] = levels.map { (l: Int) -> Float in Float(l - 16) * 0.5 }
        #expect(q50 == q50Expected)
        // Q5_1: d = 1, m = 0.5 (0x3800), every high bit on.
        let q51 = decode([0x00, 0x3C, 0x00, 0x38, 0xFF, 0xFF, 0xFF, 0xFF] + nibbles, .q5_1)
        let q51Expected: [Float] = ramp.map { (l: Int) -> Float in Float(l + 16) + 0.5 }
        #expect(q51 == q51Expected)
        // IQ4_NL: d = 1; element j is grid[j], element 16 + j is grid[15 - j].
        let iq = decode([0x00, 0x3C] + nibbles, .iq4_nl)
        let iqExpected: [Float] = WeightQuantizer.iq4nlGrid + WeightQuantizer.iq4nlGrid.reversed()
        #expect(iq == iqExpected)
    }

    /// The 8-bit activation blocks as the format documents them (matmul_q8.c): per block of
    /// 32, d = amax / 127, q = x * (127 / amax) rounded to nearest even.
    static func referenceActivations(_ x: ArraySlice<Float>) -> (q: [Int], d: Float) {
        let amax = x.reduce(0) { max($0, abs($1)) }
        guard amax > 1e-30 else { return ([Int](repeating: 0, count: x.count), 0) }
        let inverse = 127 / amax
        return (x.map { Int(max(-127, min(127, $0 * inverse)).rounded(.toNearestOrEven)) }, amax / 127)
    }

    /// The reference dot product: sum over blocks of d*da*S + m*da*Q with exact integers S,
    /// Q, in float64. The kernels' float rounding keeps them within a few ulps of the scale.
    @Test(arguments: types)
    func dotProductsMatchReference(type: GGMLType) throws {
        let (n, k, m) = (13, 288, 6)
        let bytes = Self.randomBlocks(type, count: n * k / 32, seed: 11)
        var rng = SeededGenerator(seed: 12)
        let x = (0..<(m * k)).map { _ in rng.nextFloat() * 2 - 1 }
        var expected = [Double](repeating: 0, count: m * n), scale = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                for b in 0..<(k / 32) {
                    let (q, da) = Self.referenceActivations(x[(i * k + b * 32)..<(i * k + b * 32 + 32)])
                    let start = (j * k / 32 + b) * type.blockBytes
                    let w = ReferenceBlock(bytes[start..<(start + type.blockBytes)], type: type)
                    let s = zip(q, w.levels).reduce(0) { $0 + $1.0 * $1.1 }, total = q.reduce(0, +)
                    let term = Double(w.d) * Double(da) * Double(s) + Double(w.m) * Double(da) * Double(total)
                    expected[i * n + j] += term
                    scale[i * n + j] += abs(Double(w.d) * Double(da) * Double(s)) + abs(Double(w.m) * Double(da) * Double(total))
                }
            }
        }
        let format = WeightFormat(type)!
        for path in KernelTests.paths {
            let kernels = Kernels(path: path)
            let input = try ActivationBuffer(capacity: m, columns: k, formats: [format])
            input.floats.update(from: x, count: m * k)
            input.prepare(rows: m, kernels: kernels)
            var y = [Float](repeating: .nan, count: m * n)
            bytes.withUnsafeBytes { b in
                let matrix = WeightMatrix(elements: b.baseAddress!, format: format, rows: n, columns: k)
                y.withUnsafeMutableBufferPointer {
                    MatrixMultiply.multiply(input, matrix, into: $0.baseAddress!, m: m, pool: ThreadPool(threadCount: 2), kernels: kernels)
                }
            }
            let worst = (0..<(m * n)).map { abs(Double(y[$0]) - expected[$0]) / max(scale[$0], 1e-6) }.max()!
            #expect(worst < 1e-5, "\(type.name) \(path): worst relative error \(worst)")
        }
    }

    /// Quantizing then dequantizing stays within each format's step: half a level of the
    /// block's range for Q4_1 / Q5_1 (plus half rounding of d and m), a whole level for Q5_0
    /// (its levels -16...15 reach +amax only to within one step), and for IQ4_NL a bound on
    /// the grid's widest gap.
    @Test(arguments: types)
    func quantizerRoundTripsWithinTheStep(type: GGMLType) throws {
        var rng = SeededGenerator(seed: 5)
        let k = 256
        let values = (0..<(4 * k)).map { i in (rng.nextFloat() * 2 - 1) * Float(1 + i % 7) }
        let bytes = try WeightQuantizer.encode(values, columns: k, as: type)
        #expect(bytes.count == values.count / 32 * type.blockBytes)
        var back = [Float](repeating: .nan, count: values.count)
        bytes.withUnsafeBytes { WeightFormat(type)!.dequantizeRow($0.baseAddress!, into: &back, count: values.count) }
        var squaredError = 0.0, squaredValue = 0.0
        for b in 0..<(values.count / 32) {
            let block = values[(b * 32)..<(b * 32 + 32)]
            let range = Double(block.max()! - block.min()!), amax = Double(block.map(abs).max()!)
            let step: Double
            switch type {
            case .q4_1: step = range / 15
            case .q5_1: step = range / 31
            case .q5_0: step = amax / 8
            default: step = amax * 40 / 127  // the grid's widest gap (24 of 127) and its short positive end
            }
            for t in 0..<32 {
                let error = abs(Double(back[b * 32 + t]) - Double(values[b * 32 + t]))
                #expect(error <= step * 0.5 + amax * 2e-3, "\(type.name) block \(b) element \(t): error \(error), step \(step)")
                squaredError += error * error
                squaredValue += Double(values[b * 32 + t]) * Double(values[b * 32 + t])
            }
        }
        let limits: [GGMLType: Double] = [.q4_1: 0.09, .q5_0: 0.06, .q5_1: 0.045, .iq4_nl: 0.1]
        let relative = (squaredError / squaredValue).squareRoot()
        #expect(relative < limits[type]!, "\(type.name): relative RMS error \(relative)")
    }
}
