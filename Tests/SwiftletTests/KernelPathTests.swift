import Foundation
import Testing
@testable import Swiftlet

/// One binary, every CPU path: for each weight format, the decoder's logits are
/// bit-identical alone and inside a 64-sequence batch on every path, and the paths agree
/// within 1e-4.
@Suite("Kernel paths")
struct KernelPathTests {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl]

    /// Logits of `prompt` (each position), alone or as sequence 0 of a step that also holds
    /// 63 other sequences' prompts.
    static func logits(of model: LoadedModel, prompt: [Int32], crowd: Bool, kernels: Kernels) -> [[Float]] {
        let sequences = crowd ? 64 : 1
        let transformer = try! Transformer(weights: model.weights, maxBatchTokens: sequences * prompt.count, threadCount: 2, kernels: kernels)
        let cache = try! PagedKVCache(configuration: model.configuration, blockSize: 4, blockCount: sequences * 4)
        var batch = TokenBatch()
        for s in 0..<sequences {
            let table = (0..<4).map { _ in cache.blocks.allocate()! }
            let sequence = batch.addSequence(blockTable: table)
            for (position, token) in prompt.enumerated() {
                let id = s == 0 ? token : Int32(3 + (Int(token) * 7 + s * 13) % 290)
                batch.append(token: id, position: position, sequence: sequence, wantsLogits: s == 0)
            }
        }
        let out = transformer.forward(batch, cache: cache)
        return (0..<out.rowCount).map { Array(out.row($0)) }
    }

    @Test(arguments: types)
    func logitsAreBatchInvariantOnEveryPathAndPathsAgree(type: GGMLType) throws {
        let model = try TestModels.load(TestModels.tiny(dimension: 64, hidden: 96, weightType: type))
        #expect(model.weights.layers[0].query.format.type == type)
        let prompt: [Int32] = [1, 40, 77, 5, 123, 250, 9, 31, 66, 200, 12]
        var byPath: [[[Float]]] = []
        for path in KernelTests.paths {
            let kernels = Kernels(path: path)
            let alone = Self.logits(of: model, prompt: prompt, crowd: false, kernels: kernels)
            let crowded = Self.logits(of: model, prompt: prompt, crowd: true, kernels: kernels)
            #expect(alone.count == prompt.count && crowded.count == prompt.count)
            let same = zip(alone, crowded).allSatisfy { zip($0, $1).allSatisfy { $0.bitPattern == $1.bitPattern } }
            #expect(same, "\(type.name) \(path): logits alone differ from the same rows in a 64-sequence batch")
            byPath.append(alone)
        }
        for (index, other) in byPath.enumerated().dropFirst() {
            let worst = zip(byPath[0], other).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? 0
            #expect(worst < 1e-4, "\(type.name): \(KernelTests.paths[index]) differs from \(KernelTests.paths[0]) by \(worst)")
        }
    }

    /// `SWIFTLET_CPU` picks the default path; a wrong value is an error, not a silent default.
    @Test func environmentNamesThePath() throws {
        try KernelPath.validateEnvironment([:])
        try KernelPath.validateEnvironment(["SWIFTLET_CPU": "avx2"])
        #expect(throws: KernelPathError.self) { try KernelPath.validateEnvironment(["SWIFTLET_CPU": "sse9"]) }
        #expect(Kernels(path: .avx512).path <= KernelPath.best)
        #expect(Kernels(path: .baseline).path == .baseline)
    }

    /// Linux's cache sizes parse, and a model counts as streaming from memory past 32 MiB of
    /// weights per step or half the last-level cache, whichever is smaller.
    @Test func weightsStreamFromMemoryPastHalfTheLastLevelCache() {
        #expect(Memory.parseCacheSize("32768K\n") == 32 << 20)
        #expect(Memory.parseCacheSize("260M") == 260 << 20)
        #expect(Memory.parseCacheSize("1048576") == 1 << 20)
        for bad in ["", "K", "-4K", "12Q", "99999999999999999999M"] { #expect(Memory.parseCacheSize(bad) == nil, "\(bad)") }
        let shipped = 31 << 20
        #expect(!MatrixMultiply.streamsFromMemory(weightBytesPerStep: shipped, lastLevelCache: 260 << 20))
        #expect(!MatrixMultiply.streamsFromMemory(weightBytesPerStep: shipped, lastLevelCache: nil))
        #expect(MatrixMultiply.streamsFromMemory(weightBytesPerStep: shipped, lastLevelCache: 32 << 20))
        #expect(MatrixMultiply.streamsFromMemory(weightBytesPerStep: 33 << 20, lastLevelCache: 260 << 20))
        #expect(!MatrixMultiply.streamsFromMemory(weightBytesPerStep: 2 << 20, lastLevelCache: 32 << 20))
    }
}
