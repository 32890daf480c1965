import Testing
@testable import Swiftlet

@Suite("Transformer")
struct TransformerTests {
    /// Logits of a prompt prefilled in one batch, in uneven chunks, and token by token, with
    /// another sequence interleaved, and with the weights walked as from memory: all
    /// bit-identical.
    @Test(arguments: [false, true])
    func batchedForwardEqualsTokenByToken(tied: Bool) throws {
        let model = try TestModels.load(TestModels.tiny(tied: tied))
        let prompt: [Int32] = (0..<23).map { Int32(3 + ($0 * 37) % 290) }
        let other: [Int32] = [1, 50, 60, 70, 80]

        func run(chunks: [Int], interleave: Bool, fromMemory: Bool? = nil) -> [[Float]] {
            let transformer = try! Transformer(weights: model.weights, maxBatchTokens: 64, pool: ThreadPool(threadCount: 2),
                                               weightsFromMemory: fromMemory)
            if let fromMemory { #expect(transformer.weightsFromMemory == fromMemory) }
            let cache = try! PagedKVCache(configuration: model.configuration, blockSize: 4, blockCount: 32)
            let tableA = (0..<6).map { _ in cache.blocks.allocate()! }
            let tableB = (0..<2).map { _ in cache.blocks.allocate()! }
            var rows: [[Float]] = []
            var start = 0
            var otherPosition = 0
            var batch = TokenBatch()
            for chunk in chunks {
                batch.removeAll()
                if interleave && otherPosition < other.count {
                    let s = batch.addSequence(blockTable: tableB)
                    batch.append(token: other[otherPosition], position: otherPosition, sequence: s, wantsLogits: true)
                    otherPosition += 1
                }
                let a = batch.addSequence(blockTable: tableA)
                for p in start..<(start + chunk) {
                    batch.append(token: prompt[p], position: p, sequence: a, wantsLogits: true)
                }
                let logits = transformer.forward(batch, cache: cache)
                let first = logits.rowCount - chunk
                for r in first..<logits.rowCount { rows.append(Array(logits.row(r))) }
                start += chunk
            }
            return rows
        }
        let whole = run(chunks: [23], interleave: false)
        let single = run(chunks: Array(repeating: 1, count: 23), interleave: false)
        let uneven = run(chunks: [5, 1, 7, 3, 7], interleave: true)
        let streamed = run(chunks: [2, 3, 4, 5, 6, 3], interleave: true, fromMemory: true)
        let cached = run(chunks: [2, 3, 4, 5, 6, 3], interleave: true, fromMemory: false)
        #expect(whole.count == 23)
        #expect(whole == single)
        #expect(whole == uneven)
        #expect(whole == streamed)
        #expect(whole == cached)
    }

    /// A matrix's share of a step's work, which decides how many threads multiply by it,
    /// counts a block-format weight like an F16 one: a 384x384 Q4_0 matrix (83 KB) splits
    /// like its 295 KB F16 copy instead of running on one thread.
    @Test func partWorkCountsBlockWeightsLikeHalves() {
        let bytes = [UInt8](repeating: 0, count: 384 * 384 * 4)
        bytes.withUnsafeBytes { raw in
            let q4 = WeightMatrix(elements: raw.baseAddress!, format: WeightFormat(.q4_0)!, rows: 384, columns: 384)
            let f32 = WeightMatrix(elements: raw.baseAddress!, format: WeightFormat(.f32)!, rows: 384, columns: 384)
            #expect(q4.byteCount == 384 * 12 * 18)
            #expect(Transformer.work(q4) == 2 * 384 * 384)
            #expect(Transformer.work(f32) == f32.byteCount)
            #expect(Transformer.work(q4) / Transformer.minimumPartWork >= 4)
        }
    }

    /// Skinny steps whose weights stream from memory split a matrix into one part per
    /// thread (each thread's share one long walk); larger steps and cached weights into
    /// `ThreadPool.partsPerThread` a thread, so a stalled thread's parts can move.
    @Test func skinnyStreamedStepsTakeOnePartPerThread() {
        #expect(MatrixMultiply.partsPerThread(rows: 1, fromMemory: true) == 1)
        #expect(MatrixMultiply.partsPerThread(rows: Kernels.skinnyRows, fromMemory: true) == 1)
        #expect(MatrixMultiply.partsPerThread(rows: Kernels.skinnyRows + 1, fromMemory: true) == ThreadPool.partsPerThread)
        #expect(MatrixMultiply.partsPerThread(rows: 3, fromMemory: false) == ThreadPool.partsPerThread)
        #expect(ThreadPool.partsPerThread > 1)
        let pool = ThreadPool(threadCount: 2)
        #expect(pool.parts(384, granularity: 16, perThread: 1) == 2)
        #expect(pool.parts(384, granularity: 16) == 2 * ThreadPool.partsPerThread)
        #expect(pool.parts(16, granularity: 16, perThread: 1) == 1)
        #expect(pool.parts(384, granularity: 16, perThread: 0) == 2)
    }

    @Test func configurationRejectsBadShapes() {
        var c = ModelConfiguration(dimension: 32, layerCount: 1, headCount: 4, kvHeadCount: 3, hiddenDimension: 8, vocabularySize: 10, contextLength: 8)
        #expect(throws: ModelFileError.self) { try c.validate() }
        c.kvHeadCount = 2
        #expect(throws: Never.self) { try c.validate() }
        c.contextLength = 0
        #expect(throws: ModelFileError.self) { try c.validate() }
    }

    @Test func loaderRejectsMissingAndMisshapenTensors() throws {
        var bytes = TestModels.tiny()
        #expect(throws: Never.self) { try TestModels.load(bytes) }
        // Declare a different embedding length than the tensors have.
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("llama.embedding_length", .uint32(64))
        writer.add("llama.block_count", .uint32(1))
        writer.add("llama.feed_forward_length", .uint32(8))
        writer.add("llama.attention.head_count", .uint32(4))
        writer.add("llama.context_length", .uint32(8))
        writer.addTensor("token_embd.weight", dimensions: [32, 10], floats: Array(repeating: 0, count: 320))
        bytes = writer.serialized()
        #expect(throws: ModelFileError.self) { try TestModels.load(bytes) }
        writer.add("general.architecture", .string("gpt2"))
        #expect(throws: ModelFileError.self) { try TestModels.load(writer.serialized()) }
        #expect(throws: ModelFileError.self) { try TestModels.load([1, 2, 3]) }
        // llama2.c header promising more than the file holds.
        var header = [Int32](arrayLiteral: 64, 172, 5, 8, 4, 512, 512).flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        header += [UInt8](repeating: 0, count: 100)
        #expect(throws: ModelFileError.self) { try TestModels.load(header) }
    }
}
