import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet bench-kernels`: GFLOP/s of the linear-layer kernels for weight shapes and
/// batch sizes, Swiftlet's batch-invariant kernel side by side with OpenBLAS sgemm.
struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Measure matrix-multiply GFLOP/s (Swiftlet's kernel vs OpenBLAS sgemm), or attention's KV read rate.")

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

    @Flag(help: "Measure paged attention instead: --rows sequences of --context cached positions each.")
    var attention = false

    @Option(help: "With --attention: cached positions per sequence.")
    var context: Int = 96

    @Option(help: "With --attention: query tokens per sequence in the step (1 = decode).")
    var queryTokens: Int = 1

    @Option(help: "With --attention: attention heads, KV heads and head dimension, as HxKxD.")
    var heads: String = "12x12x64"

    @Option(name: .customLong("kv-cache-type"), help: "With --attention: f32 or f16.")
    var kvCacheType: String = "f32"

    func run() throws {
        if attention { return try runAttention() }
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

    /// Attention over 12 layers' caches (more than the L3 cache holds at the defaults), one
    /// layer per call in turn, as in a forward step; reports the cached bytes read per second.
    private func runAttention() throws {
        let dims = heads.split(separator: "x").compactMap { Int($0) }
        guard dims.count == 3, dims.allSatisfy({ $0 > 0 }), dims[0] % dims[1] == 0 else { throw ValidationError("bad --heads '\(heads)'") }
        guard let type = KVCacheType(rawValue: kvCacheType) else { throw ValidationError("--kv-cache-type must be f32 or f16") }
        guard context >= queryTokens, queryTokens >= 1 else { throw ValidationError("--context must be at least --query-tokens") }
        let layers = 12
        let configuration = ModelConfiguration(dimension: dims[0] * dims[2], layerCount: layers, headCount: dims[0], kvHeadCount: dims[1],
                                               headDimension: dims[2], hiddenDimension: 4 * dims[0] * dims[2], vocabularySize: 2,
                                               contextLength: context)
        let pool = ThreadPool(threadCount: threads)
        print("sequences  context  queries  type   µs per layer   KV GB/s")
        for sequences in try rows.split(separator: ",").map({ part -> Int in
            guard let m = Int(part), m > 0 else { throw ValidationError("bad row count '\(part)'") }
            return m
        }) {
            let blockSize = 16, blocksPerSequence = (context + blockSize - 1) / blockSize
            let cache = PagedKVCache(configuration: configuration, blockSize: blockSize, blockCount: sequences * blocksPerSequence, type: type)
            var rng = SeededGenerator(seed: 1)
            let kv = (0..<configuration.kvDimension).map { _ in rng.nextFloat() * 2 - 1 }  // (kvDim)
            // Blocks interleaved across sequences, as a busy pool hands them out.
            var batch = TokenBatch()
            for s in 0..<sequences {
                let table = (0..<blocksPerSequence).map { Int32($0 * sequences + s) }
                for layer in 0..<layers {
                    for position in 0..<context {
                        cache.store(keys: kv, values: kv, layer: layer, block: Int(table[position / blockSize]), slot: position % blockSize)
                    }
                }
                let sequence = batch.addSequence(blockTable: table)
                for position in (context - queryTokens)..<context {
                    batch.append(token: 0, position: position, sequence: sequence, wantsLogits: false)
                }
            }
            let tokens = sequences * queryTokens
            let kernel = PagedAttention(configuration: configuration, maxBatchTokens: tokens, maxContext: context, threadCount: threads)
            let queries = (0..<(tokens * configuration.queryDimension)).map { _ in rng.nextFloat() * 2 - 1 }  // (tokens, queryDim)
            let output = UnsafeMutablePointer<Float>.allocate(capacity: tokens * configuration.queryDimension)  // (tokens, queryDim)
            defer { output.deallocate() }
            var layer = 0
            let bytes = Double(2 * sequences * context * configuration.kvDimension * type.byteCount)
            let rate = measure(flops: bytes) {
                kernel.run(batch, layer: layer, cache: cache, queries: queries, into: output, pool: pool)
                layer = (layer + 1) % layers
            }
            print(String(format: "%9d  %7d  %7d  %4@  %13.1f  %8.1f", sequences, context, queryTokens, type.rawValue, bytes / rate / 1e3, rate))
        }
    }
}
