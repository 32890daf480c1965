import Foundation
import Testing
@testable import Swiftlet

/// The attention kernel against a float64 reference, and its tiling against itself.
@Suite("Paged attention")
struct PagedAttentionTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var type: KVCacheType
        var blockSize: Int
        var heads: Int, kvHeads: Int, headDimension: Int
        var testDescription: String { "\(type) block \(blockSize) heads \(heads)/\(kvHeads)x\(headDimension)" }
    }

    static let shapes = [
        Shape(type: .f32, blockSize: 16, heads: 4, kvHeads: 2, headDimension: 16),
        Shape(type: .f16, blockSize: 16, heads: 6, kvHeads: 2, headDimension: 64),
        Shape(type: .f32, blockSize: 4, heads: 4, kvHeads: 2, headDimension: 12),  // other block size: the scalar path
        Shape(type: .f32, blockSize: 32, heads: 2, kvHeads: 1, headDimension: 10),  // head size not a multiple of 4 or 16
        Shape(type: .f16, blockSize: 5, heads: 3, kvHeads: 3, headDimension: 7),
        Shape(type: .f32, blockSize: 16, heads: 12, kvHeads: 12, headDimension: 64),
        // Many query heads per KV head (multi-query models, issue 15 case 1): one tile of
        // one KV head holds more rows than the default item scratch.
        Shape(type: .f32, blockSize: 16, heads: 32, kvHeads: 1, headDimension: 8),
        Shape(type: .f16, blockSize: 16, heads: 128, kvHeads: 1, headDimension: 4),
        Shape(type: .f32, blockSize: 16, heads: 96, kvHeads: 2, headDimension: 4),
    ]

    /// Sequences of random keys and values, and a batch with decode tokens and multi-token
    /// chunks (longer than one tile) of those sequences.
    struct Setup {
        let configuration: ModelConfiguration
        let cache: PagedKVCache
        let keys: [[[Float]]]    // (sequence, position, kvDim), as stored (rounded for f16)
        let values: [[[Float]]]  // (sequence, position, kvDim)
        let tables: [[Int32]]

        init(_ shape: Shape, lengths: [Int], seed: UInt64 = 7) {
            configuration = ModelConfiguration(dimension: shape.heads * shape.headDimension, layerCount: 2, headCount: shape.heads,
                                               kvHeadCount: shape.kvHeads, headDimension: shape.headDimension, hiddenDimension: 8,
                                               vocabularySize: 4, contextLength: 128)
            let blocksPer = lengths.map { ($0 + shape.blockSize - 1) / shape.blockSize }
            cache = try! PagedKVCache(configuration: configuration, blockSize: shape.blockSize, blockCount: blocksPer.reduce(0, +) + 3, type: shape.type)
            var rng = SeededGenerator(seed: seed)
            var keys: [[[Float]]] = [], values: [[[Float]]] = [], tables: [[Int32]] = []
            // Blocks handed out interleaved between sequences, as in a busy pool.
            var pending = blocksPer
            var perSequence = [[Int32]](repeating: [], count: lengths.count)
            while pending.contains(where: { $0 > 0 }) {
                for s in lengths.indices where pending[s] > 0 {
                    perSequence[s].append(cache.blocks.allocate()!)
                    pending[s] -= 1
                }
            }
            let kvDim = configuration.kvDimension
            func round(_ x: Float) -> Float { shape.type == .f16 ? Float(Float16(x)) : x }
            for (s, length) in lengths.enumerated() {
                let table = perSequence[s]
                var k: [[Float]] = [], v: [[Float]] = []
                for position in 0..<length {
                    let key = (0..<kvDim).map { _ in rng.nextFloat() * 4 - 2 }
                    let value = (0..<kvDim).map { _ in rng.nextFloat() * 2 - 1 }
                    for layer in 0..<2 {
                        cache.store(keys: key, values: value, layer: layer, block: Int(table[position / shape.blockSize]),
                                    slot: position % shape.blockSize)
                    }
                    k.append(key.map(round))
                    v.append(value.map(round))
                }
                keys.append(k)
                values.append(v)
                tables.append(table)
            }
            self.keys = keys
            self.values = values
            self.tables = tables
        }

        /// float64 attention of one query row for `head` at `position` of `sequence`, over the
        /// last `window` positions when given.
        func reference(query: ArraySlice<Float>, head: Int, sequence: Int, position: Int, window: Int? = nil) -> [Double] {
            let hd = configuration.headDimension, kvHead = head / configuration.groupSize
            let scale = 1 / Double(hd).squareRoot()
            let visible = (window.map { max(0, position - $0 + 1) } ?? 0)...position
            var scores = visible.map { p in
                (0..<hd).reduce(0.0) { $0 + Double(query[query.startIndex + $1]) * Double(keys[sequence][p][kvHead * hd + $1]) } * scale
            }
            let top = scores.max()!
            scores = scores.map { Foundation.exp($0 - top) }
            let total = scores.reduce(0, +)
            return (0..<hd).map { d in
                zip(visible, scores).reduce(0.0) { $0 + $1.1 / total * Double(values[sequence][$1.0][kvHead * hd + d]) }
            }
        }
    }

    /// (sequence, position) of each token: a 20-token chunk (more than one tile), decode
    /// tokens, a 3-token chunk at the very start of a sequence, and a chunk out of position
    /// order whose first and fourth rows fill a block its middle rows do not.
    static let tokens: [(Int, Int)] = (30..<50).map { (0, $0) } + [(1, 16), (2, 5)] + (0..<3).map { (3, $0) } + [(1, 17)]
        + [(0, 47), (0, 33), (0, 35), (0, 48)]

    @Test(arguments: shapes)
    func matchesFloat64Reference(shape: Shape) throws {
        let setup = Setup(shape, lengths: [50, 18, 6, 3])
        let c = setup.configuration
        var batch = TokenBatch()
        let ids = setup.tables.map { batch.addSequence(blockTable: $0) }
        for (sequence, position) in Self.tokens { batch.append(token: 0, position: position, sequence: ids[sequence], wantsLogits: false) }
        var rng = SeededGenerator(seed: 11)
        let queries = (0..<(Self.tokens.count * c.queryDimension)).map { _ in rng.nextFloat() * 2 - 1 }  // (T, queryDim)
        var output = [Float](repeating: .nan, count: queries.count)  // (T, queryDim)
        let kernel = try PagedAttention(configuration: c, maxBatchTokens: Self.tokens.count, maxContext: 64, threadCount: 2)
        kernel.run(batch, layer: 1, cache: setup.cache, queries: queries, into: &output, pool: ThreadPool(threadCount: 2))
        var worst = 0.0
        for (t, (sequence, position)) in Self.tokens.enumerated() {
            for head in 0..<c.headCount {
                let start = t * c.queryDimension + head * c.headDimension
                let expected = setup.reference(query: queries[start..<(start + c.headDimension)], head: head, sequence: sequence, position: position)
                for d in 0..<c.headDimension { worst = max(worst, abs(Double(output[start + d]) - expected[d])) }
            }
        }
        #expect(worst < 1e-5, "largest difference \(worst)")
    }

    /// A sliding window (shorter than a block, a block, longer than a block and than some
    /// sequences) attends to the last `window` positions only.
    @Test(arguments: shapes)
    func slidingWindowMatchesFloat64Reference(shape: Shape) throws {
        let setup = Setup(shape, lengths: [50, 18, 6, 3])
        let c = setup.configuration
        var rng = SeededGenerator(seed: 13)
        let queries = (0..<(Self.tokens.count * c.queryDimension)).map { _ in rng.nextFloat() * 2 - 1 }  // (T, queryDim)
        let kernel = try PagedAttention(configuration: c, maxBatchTokens: Self.tokens.count, maxContext: 64, threadCount: 2)
        for window in [1, 3, shape.blockSize, shape.blockSize + 5, 40] {
            var batch = TokenBatch()
            let ids = setup.tables.map { batch.addSequence(blockTable: $0) }
            for (sequence, position) in Self.tokens { batch.append(token: 0, position: position, sequence: ids[sequence], wantsLogits: false) }
            var output = [Float](repeating: .nan, count: queries.count)  // (T, queryDim)
            kernel.run(batch, layer: 0, cache: setup.cache, queries: queries, into: &output, pool: ThreadPool(threadCount: 2), window: window)
            var worst = 0.0
            for (t, (sequence, position)) in Self.tokens.enumerated() {
                for head in 0..<c.headCount {
                    let start = t * c.queryDimension + head * c.headDimension
                    let expected = setup.reference(query: queries[start..<(start + c.headDimension)], head: head, sequence: sequence,
                                                   position: position, window: window)
                    for d in 0..<c.headDimension { worst = max(worst, abs(Double(output[start + d]) - expected[d])) }
                }
            }
            #expect(worst < 1e-5, "window \(window): largest difference \(worst)")
        }
    }

    /// A token's output is bit-identical whether it is alone in the step, in a long chunk of
    /// its sequence, or among other sequences' tokens.
    @Test(arguments: shapes)
    func tilingNeverChangesANumber(shape: Shape) throws {
        let setup = Setup(shape, lengths: [50, 18, 6, 3])
        let c = setup.configuration
        var rng = SeededGenerator(seed: 5)
        let queryRows = Self.tokens.map { _ in (0..<c.queryDimension).map { _ in rng.nextFloat() * 2 - 1 } }
        let pool = ThreadPool(threadCount: 2)
        let kernel = try PagedAttention(configuration: c, maxBatchTokens: Self.tokens.count, maxContext: 64, threadCount: 2)
        func run(_ indices: [Int]) -> [[Float]] {
            var batch = TokenBatch()
            let ids = setup.tables.map { batch.addSequence(blockTable: $0) }
            for i in indices { batch.append(token: 0, position: Self.tokens[i].1, sequence: ids[Self.tokens[i].0], wantsLogits: false) }
            let queries = indices.flatMap { queryRows[$0] }
            var output = [Float](repeating: 0, count: queries.count)
            kernel.run(batch, layer: 0, cache: setup.cache, queries: queries, into: &output, pool: pool)
            return indices.indices.map { Array(output[($0 * c.queryDimension)..<(($0 + 1) * c.queryDimension)]) }
        }
        let together = run(Array(Self.tokens.indices))
        let reversed = run(Array(Self.tokens.indices.reversed()))
        for i in Self.tokens.indices {
            let alone = run([i])[0]
            #expect(alone == together[i], "token \(i) alone vs in the batch")
            #expect(alone == reversed[Self.tokens.count - 1 - i], "token \(i) alone vs in the reversed batch")
        }
    }
}
