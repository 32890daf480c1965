import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet bench-kernels`: GFLOP/s of the linear-layer kernels for weight shapes, batch
/// sizes and weight formats, Swiftlet's batch-invariant kernels side by side with OpenBLAS
/// sgemm (on the F32 copy of the same weights).
struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Measure matrix-multiply GFLOP/s (Swiftlet's kernel vs OpenBLAS sgemm), attention's KV read rate, or a model's forward steps by token count.")

    @Option(help: "Weight shapes OUTxIN, comma separated.")
    var shapes: String = "768x768,2048x768,32000x288"

    @Option(help: "Activation rows (batch sizes), comma separated.")
    var rows: String = "1,2,4,8,16,32,64,128"

    @Option(help: "Threads.")
    var threads: Int = 2

    @Option(help: "Weight format: f32, f16, bf16, q8_0 or q4_0.")
    var format: String = "f32"

    @Flag(help: "Walk the weights as for a model larger than the last-level cache (single streams, staged tiles).")
    var fromMemory = false

    @Option(help: "Seconds to spend per measurement.")
    var seconds: Double = 0.3

    @Flag(help: "Measure paged attention instead: --rows sequences of --context cached positions each.")
    var attention = false

    @Option(help: "With --attention or --model: cached positions per sequence.")
    var context: Int = 96

    @Option(help: "With --attention: query tokens per sequence in the step (1 = decode).")
    var queryTokens: Int = 1

    @Option(help: "With --attention: attention heads, KV heads and head dimension, as HxKxD.")
    var heads: String = "12x12x64"

    @Option(name: .customLong("kv-cache-type"), help: "With --attention: f32 or f16.")
    var kvCacheType: String = "f32"

    @Option(name: [.short, .long], help: "Time this model's whole forward steps instead: one sequence of --rows tokens, all wanting logits (as a speculative verification), after --context cached positions.")
    var model: String?

    func run() throws {
        try KernelPath.validateEnvironment(ProcessInfo.processInfo.environment)
        if attention { return try runAttention() }
        if let model { return try runSteps(model: model) }
        try runMatmul()
    }

    private func runMatmul() throws {
        guard let type = GGMLType.allCases.first(where: { $0.name.lowercased() == format.lowercased() }),
              let weightFormat = WeightFormat(type) else {
            throw ValidationError("--format must be one of \(WeightFormat.supportedNames)")
        }
        let pool = ThreadPool(threadCount: threads)
        BLAS.setThreadCount(threads)
        let parsedShapes = try shapes.split(separator: ",").map { part -> (Int, Int) in
            let dims = part.split(separator: "x").compactMap { Int($0) }
            guard dims.count == 2, dims.allSatisfy({ $0 > 0 }) else { throw ValidationError("bad shape '\(part)'") }
            return (dims[0], dims[1])
        }
        let batchSizes = try rowCounts()
        print("kernels: \(KernelPath.summary)")
        print("format  shape        rows   swiftlet GFLOP/s   weight GB/s   sgemm GFLOP/s")
        for (n, k) in parsedShapes {
            guard weightFormat.holdsRows(of: k) else { throw ValidationError("\(k) columns are not whole \(weightFormat) blocks") }
            var rng = SeededGenerator(seed: 1)
            let floats = (0..<(n * k)).map { _ in rng.nextFloat() * 2 - 1 }  // (n, k)
            let encoded = try WeightQuantizer.encode(floats, columns: k, as: type)
            for m in batchSizes {
                let x = try ActivationBuffer(capacity: m, columns: k, formats: [weightFormat])  // (m, k)
                let y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)  // (m, n)
                defer { y.deallocate() }
                for i in 0..<(m * k) { x.floats[i] = rng.nextFloat() * 2 - 1 }
                x.prepare(rows: m, kernels: .default)
                let flops = 2.0 * Double(m * n * k)
                let (ours, blas): (Double, Double) = encoded.withUnsafeBytes { bytes in
                    let w = WeightMatrix(elements: bytes.baseAddress!, format: weightFormat, rows: n, columns: k)
                    let ours = measure(flops: flops) { MatrixMultiply.multiply(x, w, into: y, m: m, pool: pool, fromMemory: fromMemory) }
                    let blas = floats.withUnsafeBufferPointer { f in
                        measure(flops: flops) { BLAS.multiply(x.floats, f.baseAddress!, into: y, m: m, n: n, k: k) }
                    }
                    return (ours, blas)
                }
                let gigabytes = ours / flops * Double(encoded.count)
                print(String(format: "%-7@ %-12@ %4d   %16.1f   %11.1f   %13.1f", weightFormat.description, "\(n)x\(k)", m, ours, gigabytes, blas))
            }
        }
    }

    /// Forward steps of one sequence of m tokens (each wanting logits) at positions
    /// `context..<context + m`, after a prefill of `context` tokens; reports each size's time
    /// against a 1-token step and the weight bytes read per second.
    private func runSteps(model path: String) throws {
        let loaded = try ModelLoader.load(path: path)
        let sizes = try rowCounts()
        let maxContext = loaded.configuration.contextLength
        guard let largest = sizes.max(), context + largest <= maxContext else {
            throw ValidationError("--context plus the largest --rows must be at most the model's context (\(maxContext))")
        }
        let pool = ThreadPool(threadCount: threads)
        let transformer = try Transformer(weights: loaded.weights, maxBatchTokens: max(largest, context), maxContext: context + largest, pool: pool)
        let blockSize = 16
        let cache = try PagedKVCache(configuration: loaded.configuration, blockSize: blockSize,
                                     blockCount: (context + largest + blockSize - 1) / blockSize)
        let table = (0..<Int32(cache.blockCount)).map { $0 }
        let token = Int32(min(1, loaded.configuration.vocabularySize - 1))
        var batch = TokenBatch()
        let sequence = batch.addSequence(blockTable: table)
        for p in 0..<context { batch.append(token: token, position: p, sequence: sequence, wantsLogits: p == context - 1) }
        _ = transformer.forward(batch, cache: cache)
        print("kernels: \(KernelPath.summary)")
        print("model: \(loaded.configuration.layerCount) layers, dim \(loaded.configuration.dimension), \(loaded.weights.bytesPerToken >> 20) MiB of weights a step; \(threads) threads, \(context) cached positions")
        print("tokens   µs per step (median)   vs 1 token   weight GB/s")
        // Rounds run every size once in turn, so a busy neighbour slows all sizes alike; each
        // size reports its median over the rounds.
        let batches = sizes.map { m -> TokenBatch in
            var b = TokenBatch()
            let s = b.addSequence(blockTable: table)
            for p in context..<(context + m) { b.append(token: token, position: p, sequence: s, wantsLogits: true) }
            return b
        }
        var samples = [[Double]](repeating: [], count: sizes.count)
        let start = MonotonicClock.now()
        repeat {
            for (i, b) in batches.enumerated() {
                let t0 = MonotonicClock.now()
                _ = transformer.forward(b, cache: cache)
                samples[i].append(MonotonicClock.now() - t0)
            }
        } while MonotonicClock.now() - start < seconds * Double(sizes.count) || samples[0].count < 5
        let medians = samples.map { $0.sorted()[$0.count / 2] * 1e6 }
        let single = sizes.firstIndex(of: 1).map { medians[$0] }
        for (m, micros) in zip(sizes, medians) {
            let ratio = single.map { String(format: "%9.2fx", micros / $0) } ?? "         -"
            print(String(format: "%6d   %20.1f   %@   %11.1f", m, micros, ratio, Double(loaded.weights.bytesPerToken) / micros / 1e3))
        }
    }

    /// The `--rows` counts (`validate` has checked their range).
    private func rowCounts() throws -> [Int] {
        try rows.split(separator: ",").map { part -> Int in
            guard let m = Int(part), m > 0 else { throw ValidationError("bad row count '\(part)'") }
            return m
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
        print("kernels: \(KernelPath.summary)")
        print("sequences  context  queries  type   µs per layer   KV GB/s")
        for sequences in try rowCounts() {
            let blockSize = 16, blocksPerSequence = (context + blockSize - 1) / blockSize
            let cache = try PagedKVCache(configuration: configuration, blockSize: blockSize, blockCount: sequences * blocksPerSequence, type: type)
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
            let kernel = try PagedAttention(configuration: configuration, maxBatchTokens: tokens, maxContext: context, threadCount: threads)

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
