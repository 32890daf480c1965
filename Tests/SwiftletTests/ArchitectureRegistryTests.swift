import Foundation
import Testing
@testable import Swiftlet

/// The architecture registry: what each architecture reads from its metadata, and the
/// errors for what it does not run.
@Suite("Architecture registry")
struct ArchitectureRegistryTests {
    static func message(loading bytes: [UInt8]) -> String? {
        do {
            _ = try TestModels.load(bytes)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func unknownArchitecturesFailNamingTheSupportedOnes() throws {
        let model = try HostileInput.rewriting(TestModels.tiny(), replacing: [("general.architecture", .string("mamba"))])
        let message = try #require(Self.message(loading: model))
        #expect(message.contains("architecture 'mamba'") && message.contains("llama, qwen2, gemma3, phi3"), "\(message)")
    }

    @Test func unimplementedRopeScalingIsRefused() throws {
        let model = try HostileInput.rewriting(TestModels.tiny(), replacing: [("llama.rope.scaling.type", .string("yarn")),
                                                                              ("llama.rope.scaling.factor", .float32(4))])
        let message = try #require(Self.message(loading: model))
        #expect(message.contains("RoPE scaling 'yarn'"), "\(message)")
    }

    @Test func keysAreReadUnderTheFilesArchitecture() throws {
        // A llama file relabelled qwen2 has no qwen2.* keys.
        let model = try HostileInput.rewriting(TestModels.tiny(), replacing: [("general.architecture", .string("qwen2"))])
        let message = try #require(Self.message(loading: model))
        #expect(message.contains("qwen2.embedding_length"), "\(message)")
    }

    @Test func gemma3LayersAreDescribedByData() throws {
        let model = try ArchitectureFixtureTests.model("gemma3")
        let c = model.configuration
        #expect(c.architecture == "gemma3" && c.ropeStyle == .splitHalves && c.activation == .geluTanh)
        #expect(c.headDimension == 256 && c.embeddingScale == Float(24).squareRoot() && c.tiedEmbeddings)
        // Five window layers in six (base 10000, unscaled), then the global layer (1e6, linear 8).
        for layer in 0..<5 { #expect(c.layerSpec(layer) == LayerSpec(slidingWindow: 5, ropeFrequencyBase: 10000)) }
        #expect(c.layerSpec(5) == LayerSpec(ropeFrequencyBase: 1_000_000, ropeFrequencyScale: 0.125))
        let layer = model.weights.layers[0]
        #expect(layer.queryNorm != nil && layer.keyNorm != nil && layer.postAttentionNorm != nil && layer.postFeedForwardNorm != nil)
        #expect(layer.queryBias == nil)
    }

    @Test func fusedTensorsAreSplitWithoutCopies() throws {
        let phi = try ArchitectureFixtureTests.model("phi3")
        let layer = phi.weights.layers[1]
        #expect(phi.configuration.ropeDimensionCount == 8 && phi.configuration.headDimension == 12)
        #expect(layer.key.elements == layer.query.elements + layer.query.rows * layer.query.rowBytes)
        #expect(layer.value.elements == layer.key.elements + layer.key.rows * layer.key.rowBytes)
        #expect(layer.up.elements == layer.gate.elements + 60 * layer.gate.rowBytes && layer.gate.rows == 60)
        let qwen = try ArchitectureFixtureTests.model("qwen2")
        #expect(qwen.weights.layers[0].queryBias != nil && qwen.weights.layers[0].keyBias != nil && qwen.weights.layers[0].valueBias != nil)
        let llama = try ArchitectureFixtureTests.model("llama3")
        #expect(llama.weights.ropeFrequencyFactors != nil && llama.configuration.ropeFrequencyScale == 0.5)
        #expect(llama.configuration.headDimension == 12 && llama.configuration.queryDimension == 48 && !llama.configuration.tiedEmbeddings)
    }

    @Test func inspectNamesTheArchitectureAndItsWindows() throws {
        let result = try runSwiftlet(["inspect", "--model", PackageFiles.path("Tests/Fixtures/architectures/gemma3.gguf")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("architecture: gemma3, 6 layers, dim 24, 2 heads (1 KV, head dim 256)"), "\(result.stdout)")
        #expect(result.stdout.contains("sliding window: 5 positions on 5 of 6 layers"), "\(result.stdout)")
    }

    /// `swiftlet generate --json` on each architecture's file gives llama.cpp's greedy ids
    /// (up to its first near-tie).
    @Test(arguments: ArchitectureFixtureTests.names)
    func commandLineGeneratesLlamaCppIds(name: String) throws {
        let expected = try ArchitectureFixtureTests.expected(name)
        let run = try runSwiftlet(["generate", "--model", PackageFiles.path("Tests/Fixtures/architectures/\(name).gguf"), "--prompt-tokens",
                                   expected.prompt_ids.map(String.init).joined(separator: ","), "--temperature", "0", "--ignore-eos",
                                   "--max-tokens", "32", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONDecoder().decode(CommandLineTests.GenerateJSON.self, from: Data(run.stdout.utf8))
        let compared = expected.top2_logprob_gaps.firstIndex { $0 < 0.01 } ?? expected.greedy_ids.count
        #expect(Array(output.tokens.prefix(compared)) == Array(expected.greedy_ids.prefix(compared)), "\(name)")
    }

    @Test func missingGemmaNormsAreNamed() throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: PackageFiles.path("Tests/Fixtures/architectures/gemma3.gguf"))))
        let file = try GGUFFile(file: MappedFile(bytes: bytes))
        var writer = GGUFWriter()
        for key in file.metadata.keys { writer.add(key, file.metadata[key]!) }
        for tensor in file.tensors where tensor.name != "blk.3.attn_k_norm.weight" {
            writer.addTensor(tensor.name, dimensions: tensor.dimensions, type: tensor.type, data: Array(file.data(of: tensor)))
        }
        let message = try #require(Self.message(loading: writer.serialized()))
        #expect(message.contains("blk.3.attn_k_norm.weight"), "\(message)")
    }
}

/// Issue 15, cases 5 and 9: RoPE angles are computed per step, not tabled over the context,
/// and positions past the engine's limit are refused where they enter.
@Suite("RoPE for long contexts")
struct LongContextRopeTests {
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = Int(statm.split(separator: " ")[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Case 5: a small file declaring a 2^20 context with 1024-wide heads starts at once.
    /// A table would take 2^20 · 512 · 2 floats (4 GiB) and tens of seconds.
    @Test(.timeLimit(.minutes(1)))
    func hugeContextsStartWithoutTables() async throws {
        let model = try TestModels.load(TestModels.tiny(dimension: 1024, layers: 1, heads: 1, kvHeads: 1, hidden: 16, vocabulary: 260,
                                                        context: 1 << 20))
        let before = Self.residentBytes()
        let clock = ContinuousClock()
        let start = clock.now
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 64, maxSequences: 2, kvCacheBlocks: 16))
        defer { engine.shutdown() }
        #expect(engine.maxContext == 1 << 20)
        let result = try await engine.complete(prompt: .tokens([1, 5, 9, 200]), parameters: GenerationParameters(maxTokens: 4, sampling: .greedy, ignoreEOS: true))
        let elapsed = clock.now - start
        #expect(result.tokens.count == 4)
        #expect(elapsed < .seconds(5), "start-up and 4 tokens took \(elapsed)")
        let grown = Self.residentBytes() - before
        #expect(grown < 512 << 20, "resident memory grew by \(grown >> 20) MB")
    }

    /// Case 9: a model may declare up to 2^24 positions; the engine's context stops at the
    /// transformer's limit and a prompt reaching it is refused with a message, not run out of
    /// bounds. Perplexity windows past the limit are refused too.
    @Test func positionsPastTheLimitAreRefusedWhereTheyEnter() async throws {
        let model = try TestModels.load(TestModels.tiny(context: 1 << 24))
        let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2, maxBatchTokens: 64, maxSequences: 2, kvCacheBlocks: 16))
        defer { engine.shutdown() }
        #expect(engine.maxContext == Transformer.positionLimit)
        let prompt = [Int32](repeating: 5, count: Transformer.positionLimit)
        do {
            _ = try await engine.complete(prompt: .tokens(prompt), parameters: GenerationParameters(maxTokens: 1, sampling: .greedy))
            Issue.record("a prompt of \(prompt.count) tokens was accepted")
        } catch let error as GenerationError {
            #expect("\(error)".contains("the context holds \(Transformer.positionLimit)"), "\(error)")
        }
        #expect(throws: PerplexityError.self) {
            _ = try PerplexityEvaluator(weights: model.weights, context: Transformer.positionLimit + 1, threadCount: 1)
        }
    }

    /// Angles come from the position in double precision: positions near and far past 2^20
    /// rotate as a float64 reference does, in both pairings and with partial rotation.
    @Test(arguments: [RopeStyle.adjacentPairs, .splitHalves])
    func farPositionsRotateExactly(style: RopeStyle) {
        var c = ModelConfiguration(dimension: 32, layerCount: 2, headCount: 2, kvHeadCount: 1, headDimension: 16, hiddenDimension: 8,
                                   vocabularySize: 4, contextLength: 1 << 24, ropeFrequencyBase: 500_000)
        c.ropeStyle = style
        c.ropeDimensionCount = 12
        c.layerSpecs = [LayerSpec(slidingWindow: 4, ropeFrequencyBase: 10000), LayerSpec(ropeFrequencyBase: 500_000, ropeFrequencyScale: 0.25)]
        let factors: [Float] = [1, 1, 2, 4, 8, 16]
        let positions: [Int32] = [0, 3, 1 << 20, (1 << 20) + 12345, (1 << 24) - 1]
        factors.withUnsafeBufferPointer { f in
            let rope = RotaryEmbedding(configuration: c, factors: f.baseAddress, maxBatchTokens: positions.count)
            positions.withUnsafeBufferPointer { rope.prepare(positions: $0, count: positions.count) }
            for layer in 0..<2 {
                let spec = c.layerSpec(layer)
                for (t, position) in positions.enumerated() {
                    var x = (0..<32).map { Float(($0 * 7 + t) % 11) - 5 }  // (2 heads, 16)
                    let original = x
                    x.withUnsafeMutableBufferPointer { rope.rotate($0.baseAddress!, heads: 2, headDimension: 16, token: t, layer: layer) }
                    for head in 0..<2 {
                        for i in 0..<6 {
                            let angle = Double(position) * Double(spec.ropeFrequencyScale)
                                * pow(Double(spec.ropeFrequencyBase), -2 * Double(i) / 12) / Double(factors[i])
                            let (a, b) = style == .adjacentPairs ? (head * 16 + 2 * i, head * 16 + 2 * i + 1) : (head * 16 + i, head * 16 + i + 6)
                            let ra = Double(original[a]) * cos(angle) - Double(original[b]) * sin(angle)
                            let rb = Double(original[a]) * sin(angle) + Double(original[b]) * cos(angle)
                            #expect(abs(Double(x[a]) - ra) < 1e-5 && abs(Double(x[b]) - rb) < 1e-5, "layer \(layer) position \(position) pair \(i)")
                        }
                        for d in 12..<16 { #expect(x[head * 16 + d] == original[head * 16 + d], "dimension \(d) past the rotary part moved") }
                    }
                }
            }
        }
    }
}
