import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet bench-kernels`: GFLOP/s of the linear-layer kernels for weight shapes and
/// batch sizes, Swiftlet's batch-invariant kernel side by side with OpenBLAS sgemm.
struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Measure matrix-multiply GFLOP/s: Swiftlet's kernel vs OpenBLAS sgemm.")

    @Option(help: "Weight shapes OUTxIN, comma separated.")
    var shapes: String = "768x768,2048x768,32000x288"

    @Option(help: "Activation rows (batch sizes), comma separated.")
    var rows: String = "1,2,4,8,16,32,64,128"

    @Option(help: "Threads.")
    var threads: Int = 2

    @Option(help: "Batch sizes up to which weights stream one row at a time (kernel choice).")
    var streamLimit: Int = MatrixMultiply.defaultStreamingRows

    @Flag(help: "Copy each weight block to thread scratch before the tiles (as for models larger than L3).")
    var staged = false

    @Option(help: "Seconds to spend per measurement.")
    var seconds: Double = 0.3

    func run() throws {
        let pool = ThreadPool(threadCount: threads)
        BLAS.setThreadCount(threads)
        let parsedShapes = try shapes.split(separator: ",").map { part -> (Int, Int) in
            let dims = part.split(separator: "x").compactMap { Int($0) }
            guard dims.count == 2, dims.allSatisfy({ $0 > 0 }) else { throw ValidationError("bad shape '\(part)'") }
            return (dims[0], dims[1])
        }
        let batchSizes = try rows.split(separator: ",").map { part -> Int in
            guard let m = Int(part), m > 0 else { throw ValidationError("bad row count '\(part)'") }
            return m
        }
        print("shape        rows   swiftlet GFLOP/s   sgemm GFLOP/s")
        for (n, k) in parsedShapes {
            for m in batchSizes {
                let x = UnsafeMutablePointer<Float>.allocate(capacity: m * k)  // (m, k)
                let w = UnsafeMutablePointer<Float>.allocate(capacity: n * k)  // (n, k)
                let y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)  // (m, n)
                defer { x.deallocate(); w.deallocate(); y.deallocate() }
                var rng = SeededGenerator(seed: 1)
                for i in 0..<(m * k) { x[i] = rng.nextFloat() * 2 - 1 }
                for i in 0..<(n * k) { w[i] = rng.nextFloat() * 2 - 1 }
                let flops = 2.0 * Double(m * n * k)
                let ours = measure(flops: flops) { MatrixMultiply.multiply(x, w, into: y, m: m, n: n, k: k, pool: pool, streamingRows: streamLimit, staged: staged) }
                let blas = measure(flops: flops) { BLAS.multiply(x, w, into: y, m: m, n: n, k: k) }
                print(String(format: "%-12@ %4d   %16.1f   %13.1f", "\(n)x\(k)", m, ours, blas))
            }
        }
    }

    private func measure(flops: Double, _ body: () -> Void) -> Double {
        body()
        var iterations = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            body()
            iterations += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        return flops * Double(iterations) / elapsed / 1e9
    }
}
