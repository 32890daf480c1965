import Foundation
import Testing
@testable import Swiftlet

@Suite("Sampling kernels")
struct SamplingKernelsTests {
    @Test func vectorExpMatchesLibm() {
        var worst: Float = 0
        var x: Float = -87
        while x <= 88 {
            let lanes = SIMD16<Float>((0..<16).map { x + Float($0) * 0.0137 })
            let e = SamplingKernels.exp(lanes)
            for i in 0..<16 where lanes[i] <= 88 {
                let reference = Foundation.exp(Double(lanes[i]))
                worst = max(worst, Float(abs(Double(e[i]) - reference) / reference))
            }
            x += 0.21
        }
        #expect(worst < 4e-7, "worst relative error \(worst)")
        #expect(SamplingKernels.exp(Float(0)) == 1)
        #expect(SamplingKernels.exp(-Float.infinity) == 0)
        #expect(SamplingKernels.exp(Float(-200)) == 0)
    }

    @Test func argmaxAndSanitizeOverOddLengths() {
        for count in [2, 15, 16, 17, 33, 100] {
            var values = [Float](repeating: -1, count: count)
            values[count - 1] = 2
            if count > 2 { values[count / 2] = 2 }
            let expected = count > 2 ? count / 2 : count - 1
            #expect(values.withUnsafeBufferPointer { SamplingKernels.argmax($0) } == expected)
            values[0] = .nan
            let top = values.withUnsafeMutableBufferPointer { SamplingKernels.sanitizeAndMax($0) }
            #expect(top == 2)
            #expect(values[0] == -.infinity)
            values[count - 1] = .infinity
            _ = values.withUnsafeMutableBufferPointer { SamplingKernels.sanitizeAndMax($0) }
            #expect(values[count - 1] == .greatestFiniteMagnitude)
        }
        let none = [Float](repeating: .nan, count: 20)
        #expect(none.withUnsafeBufferPointer { SamplingKernels.argmax($0) } == 0)
    }

    @Test func inverseCDFSkipsZeros() {
        var weights = [Float](repeating: 0, count: 37)
        weights[5] = 0.25
        weights[20] = 0.5
        weights[36] = 0.25
        weights.withUnsafeBufferPointer { w in
            #expect(SamplingKernels.positiveSum(w) == 1)
            #expect(SamplingKernels.inverseCDF(w, target: 0) == 5)
            #expect(SamplingKernels.inverseCDF(w, target: 0.2499) == 5)
            #expect(SamplingKernels.inverseCDF(w, target: 0.25) == 20)
            #expect(SamplingKernels.inverseCDF(w, target: 0.76) == 36)
            #expect(SamplingKernels.inverseCDF(w, target: 5) == 36)
        }
        [Float](repeating: 0, count: 40).withUnsafeBufferPointer { w in
            #expect(SamplingKernels.inverseCDF(w, target: 0) == nil)
        }
    }
}
