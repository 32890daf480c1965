import Foundation
import Testing
@testable import Swiftlet

/// Issue 15, case 6: size flags are range-checked before any arithmetic, so a huge value is
/// one error line naming the flag and its range (not a wrapped product and a tiny cache).
@Suite("Hostile input: size flags")
struct HostileFlagTests {
    @Test func hugeKVCacheSizeNoLongerWrapsToOneBlock() throws {
        let model = try TestModels.load(TestModels.tiny())
        // 2^44 MiB: the old `megabytes * 1_048_576` wrapped to 0 bytes, then one block.
        let blocks = PagedKVCache.blockCount(model.configuration, blockSize: 16, megabytes: 1 << 44, type: .f32)
        #expect(blocks > 1 << 20)
        #expect(PagedKVCache.blockCount(model.configuration, blockSize: 16, megabytes: 1, type: .f32) >= 1)
        var configuration = EngineConfiguration(kvCacheMegabytes: 1 << 44)
        #expect(configuration.kvCacheBytes == nil)
        #expect(throws: GenerationError.self) { try configuration.validate() }
        #expect(throws: GenerationError.self) { try Engine(model: model, configuration: configuration) }
        configuration.kvCacheMegabytes = 4
        configuration.maxContext = 1 << 30
        #expect(throws: GenerationError.self) { try configuration.validate() }
        configuration.maxContext = nil
        configuration.kvCacheBlocks = Int.max
        #expect(throws: GenerationError.self) { try configuration.validate() }
    }

    @Test func outOfRangeFlagsGiveOneErrorLineNamingTheFlag() throws {
        let folder = try HostileInput.folder("flags")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = HostileInput.write(TestModels.tiny(), "tiny.gguf", in: folder)
        let generate = ["generate", "--model", model, "--prompt", "a", "--max-tokens", "4"]
        let cases: [([String], String)] = [
            (generate + ["--kv-cache-mb", "17592186044416"], "--kv-cache-mb must be at least 1 and at most 1048576"),
            (generate + ["--kv-cache-mb", "0"], "--kv-cache-mb must be at least"),
            (generate + ["--kv-cache-mb", "99999999999999999999"], "kv-cache-mb"),
            (generate + ["--max-batch-tokens", "1099511627776"], "--max-batch-tokens must be at least 1 and at most 65536"),
            (generate + ["--max-sequences", "0"], "--max-sequences must be at least"),
            (generate + ["--threads", "4294967297"], "--threads must be at least 1 and at most 256"),
            (generate + ["--context", "1"], "--context must be at least 2 and at most 16777216"),
            (generate + ["--context", "9223372036854775807"], "--context must be at least"),
            (["generate", "--model", model, "--prompt", "a", "--max-tokens", "9223372036854775807"], "--max-tokens must be at least"),
            (["bench", "--model", model, "--prompt-length", "4611686018427387904"], "--prompt-length must be at least"),
            (["bench", "--model", model, "--gen-length", "0"], "--gen-length must be at least"),
            (["bench", "--model", model, "--shared-prefix-tokens", "4611686018427387904"], "--shared-prefix-tokens must be at least"),
            (["perplexity", "--model", model, "--file", model, "--kv-cache-mb", "17592186044416"], "--kv-cache-mb must be at least"),
            (["bench-kernels", "--shapes", "1048576x1048576"], "--shapes"),
            (["bench-kernels", "--rows", "4294967296"], "--rows must be at least"),
            (["bench-kernels", "--attention", "--context", "4611686018427387904"], "--context must be at least"),
            (["serve", "--model", model, "--batch-tokens-beside-interactive", "0"], "--batch-tokens-beside-interactive must be at least 1"),
            (["serve", "--model", model, "--interactive-window-ms=-1"], "--interactive-window-ms must be at least 0 and at most 3600000"),
            (["serve", "--model", model, "--interactive-window-ms", "3600001"], "--interactive-window-ms must be at least 0"),
        ]
        for (arguments, message) in cases {
            let run = try runSwiftlet(arguments)
            #expect(run.status != 0 && run.status < 128, "\(arguments): status \(run.status)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments)")
        }
    }
}
