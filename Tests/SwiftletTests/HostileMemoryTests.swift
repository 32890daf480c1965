import Foundation
import Testing
@testable import Swiftlet

/// Issue 15, cases 3 and 4, and the memory plan: a one-token vocabulary runs, and sizes that
/// pass validation but not memory are refused at load with the numbers and the flag to lower.
@Suite("Hostile input: memory")
struct HostileMemoryTests {
    /// A model whose vocabulary is one token (no tokenizer: prompts are token ids).
    static func oneTokenModel() -> [UInt8] {
        TestModels.tiny(dimension: 8, layers: 1, heads: 2, kvHeads: 1, hidden: 16, vocabulary: 1, tokenizer: [])
    }

    /// Case 3: the warm-up fed token id 1, past the end of a one-token embedding. Now every
    /// step's only possible token is 0, and generation gives it.
    @Test func oneTokenVocabularyRuns() async throws {
        let model = try TestModels.load(Self.oneTokenModel())
        #expect(model.configuration.vocabularySize == 1)
        for adaptive in [true, false] {
            let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 1, kvCacheMegabytes: 4,
                                                                                     adaptiveDraftLength: adaptive))
            defer { engine.shutdown() }
            let result = try await engine.complete(prompt: .tokens([0, 0]),
                                                   parameters: GenerationParameters(maxTokens: 5, sampling: SamplingParameters(temperature: 0.8, seed: 1)))
            #expect(result.tokens == [0, 0, 0, 0, 0])
            await #expect(throws: GenerationError.self) {
                _ = try await engine.complete(prompt: .tokens([1]), parameters: GenerationParameters(maxTokens: 1))
            }
        }
        let folder = try HostileInput.folder("vocab1")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = HostileInput.write(Self.oneTokenModel(), "vocab1.gguf", in: folder)
        let run = try runSwiftlet(["generate", "-m", path, "--prompt-tokens", "0", "-n", "3", "--ignore-eos", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"tokens\":[0,0,0]"), "\(run.stdout)")
        let outside = try runSwiftlet(["generate", "-m", path, "--prompt-tokens", "1", "-n", "3"])
        #expect(outside.status == 1 && outside.stderr.contains("outside the vocabulary"), "\(outside.stderr)")
        for command in [["bench", "-m", path, "-p", "4", "-n", "4", "--concurrency", "1", "--modes", "batched"],
                        ["perplexity", "-m", path, "-f", HostileInput.write(Array("abc".utf8), "t.txt", in: folder), "-c", "8"]] {
            let other = try runSwiftlet(command)
            #expect(other.status < 128, "\(command): signal \(other.status) \(other.stderr)")
        }
    }

    /// Case 4's first model: a vocabulary of 2^24 (a 64 MB file) at the default batch budget
    /// needs a 32 GiB logits buffer. The plan's numbers, from its configuration alone.
    @Test func planCountsTheLogitsOfAHugeVocabulary() throws {
        let model = try TestModels.load(TestModels.tiny(dimension: 8, layers: 1, heads: 2, kvHeads: 1, hidden: 16, vocabulary: 300, tokenizer: []))
        var c = model.configuration
        c.vocabularySize = 1 << 24
        let weights = ModelWeights(configuration: c, tokenEmbedding: model.weights.tokenEmbedding, layers: model.weights.layers,
                                   outputNorm: model.weights.outputNorm, classifier: model.weights.classifier,
                                   storage: WeightStorage(file: MappedFile(bytes: [0])))
        let plan = MemoryPlan(weights: weights, batchTokens: 512, context: 256, threads: 2, kvCacheTokens: 1024, kvCacheType: .f32, sequences: 64)
        #expect(plan.logitBytes == 512 << 26)  // 512 rows x 2^24 tokens x 4 bytes = 32 GiB
        #expect(plan.tableBytes >= 64 << 28)   // 64 samplers x 2^24 tokens x 16 bytes
        #expect(plan.totalBytes > plan.logitBytes + plan.tableBytes)
        let error = #expect(throws: MemoryPlanError.self) { try plan.check(limitBytes: nil, availableBytes: 24 << 30) }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("logits 32.0 GiB") && message.contains("--max-batch-tokens") && message.contains("24.0 GiB"), "\(message)")
        // One row of logits and one sampler fit.
        let small = MemoryPlan(weights: weights, batchTokens: 1, context: 256, threads: 2, kvCacheTokens: 1024, kvCacheType: .f32, sequences: 1)
        try small.check(limitBytes: nil, availableBytes: 24 << 30)
    }

    /// Case 4 on the command line: each size is one error line with the numbers and the flag,
    /// exit 1, no signal.
    @Test func sizesPastMemoryAreOneErrorLine() throws {
        let folder = try HostileInput.folder("memory")
        defer { try? FileManager.default.removeItem(at: folder) }
        // 128K vocabulary, dimension 2: a 1 MB file.
        let wide = HostileInput.write(TestModels.tiny(dimension: 2, layers: 1, heads: 1, kvHeads: 1, hidden: 2, vocabulary: 1 << 17,
                                                      tied: true, tokenizer: []), "wide.gguf", in: folder)
        let tiny = HostileInput.write(TestModels.tiny(), "tiny.gguf", in: folder)
        let cases: [([String], [String])] = [
            // 65536 rows x 131072 tokens x 4 bytes.
            (["-m", wide, "--prompt-tokens", "1", "--max-batch-tokens", "65536"], ["logits 32.0 GiB", "--max-batch-tokens"]),
            // 1 TiB of KV cache (more than any machine this runs on has available).
            (["-m", tiny, "-p", "a", "--kv-cache-mb", "1048576"], ["KV cache 1024.0 GiB", "--kv-cache-mb"]),
            // An explicit limit below what the tiny model plans.
            (["-m", tiny, "-p", "a", "--kv-cache-mb", "64", "--max-memory-mb", "32"], ["--max-memory-mb, 32.0 MiB", "KV cache 64.0 MiB", "--kv-cache-mb"]),
        ]
        for (arguments, messages) in cases {
            let run = try runSwiftlet(["generate"] + arguments + ["-n", "2"])
            #expect(run.status == 1, "\(arguments): status \(run.status) \(run.stderr)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): \(run.stderr)")
            for message in messages { #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)") }
            #expect(!run.stderr.contains("Fatal error"))
        }
        // The same limits that fit run.
        let fits = try runSwiftlet(["generate", "-m", tiny, "-p", "a", "--kv-cache-mb", "16", "--max-memory-mb", "64", "-n", "2", "--ignore-eos"])
        #expect(fits.status == 0, "\(fits.stderr)")
        let wideFits = try runSwiftlet(["generate", "-m", wide, "--prompt-tokens", "1", "--max-batch-tokens", "64", "-n", "2", "--ignore-eos", "--json"])
        #expect(wideFits.status == 0, "\(wideFits.stderr)")
        // inspect shows the plan.
        let inspect = try runSwiftlet(["inspect", "-m", wide])
        #expect(inspect.stdout.contains("memory plan at the defaults") && inspect.stdout.contains("logits 256.0 MiB"), "\(inspect.stdout)")
        let text = HostileInput.write(Array("the tea and the tent\n".utf8), "text.txt", in: folder)
        // perplexity plans its own run state: the shipped model's 31.6 MiB of weights pass 16 MiB.
        let shipped = PackageFiles.path("Models/shakespeare-target.gguf")
        let perplexity = try runSwiftlet(["perplexity", "-m", shipped, "-f", text, "-c", "64", "--max-memory-mb", "16"])
        #expect(perplexity.status == 1, "\(perplexity.status) \(perplexity.stderr)")
        #expect(perplexity.stderr.contains("more than the limit of --max-memory-mb, 16.0 MiB")
                && perplexity.stderr.contains("weights 31.6 MiB mapped"), "\(perplexity.stderr)")
        let perplexityFits = try runSwiftlet(["perplexity", "-m", shipped, "-f", text, "-c", "64", "--max-memory-mb", "64", "--json"])
        #expect(perplexityFits.status == 0 && perplexityFits.stdout.contains("perplexity"), "\(perplexityFits.stderr)")
    }

    /// The library: an engine over the limit is refused before allocating, and the plan's
    /// parts match what the engine then allocates for a model that fits.
    @Test func enginePlanIsCheckedAgainstTheLimit() throws {
        let model = try TestModels.load(TestModels.tiny())
        var configuration = EngineConfiguration(threadCount: 2, maxBatchTokens: 64, kvCacheMegabytes: 8)
        let plan = MemoryPlan(model: model, configuration: configuration)
        #expect(plan.kvCacheBytes == 8 << 20)
        #expect(plan.logitBytes == 64 * 300 * 4)
        #expect(plan.residentWeightBytes >= TestModels.tiny().count && plan.mappedWeightBytes == 0)  // an in-memory file: all resident
        configuration.maxMemoryMegabytes = 8
        #expect(throws: MemoryPlanError.self) { try Engine(model: model, configuration: configuration) }
        configuration.maxMemoryMegabytes = 64
        let engine = try Engine(model: model, configuration: configuration)
        #expect(engine.memoryPlan == plan)
        engine.shutdown()
        configuration.maxMemoryMegabytes = 0
        #expect(throws: GenerationError.self) { try Engine(model: model, configuration: configuration) }
    }

    @Test func availableMemoryReadsMeminfoAndTheCgroupLimit() {
        let meminfo = "MemTotal:       24683520 kB\nMemFree:        19000000 kB\nMemAvailable:   22000000 kB\n"
        #expect(MemoryPlan.availableMemory(meminfo: meminfo, cgroupLimit: nil) == 22_000_000 * 1024)
        #expect(MemoryPlan.availableMemory(meminfo: meminfo, cgroupLimit: 1 << 30) == 1 << 30)
        #expect(MemoryPlan.availableMemory(meminfo: nil, cgroupLimit: nil) == nil)
        #expect((MemoryPlan.availableMemory() ?? 0) > 0)
    }

    /// Allocation failure is an error, not a trap.
    @Test func refusedAllocationThrows() {
        #expect(throws: AllocationError.self) { _ = try Memory.allocateZeroed(bytes: Int.max / 2) }
        let model = try? TestModels.load(TestModels.tiny())
        if let model {
            // 2 PiB of keys: past any address space, so refused whatever the overcommit policy.
            #expect(throws: AllocationError.self) { _ = try PagedKVCache(configuration: model.configuration, blockSize: 16, blockCount: 1 << 40) }
        }
    }
}
