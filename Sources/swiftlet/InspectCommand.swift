import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet inspect --model PATH`: architecture, shapes, tensor types, vocabulary, size.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a checkpoint's architecture, tensor shapes and types, and size.")

    @Option(name: [.long, .customShort("m")], help: "Path to a GGUF or llama2.c checkpoint.")
    var model: String

    @Flag(name: .long, help: "List every tensor.")
    var tensors = false

    func run() throws {
        try KernelPath.validateEnvironment(ProcessInfo.processInfo.environment)
        let loaded = try ModelLoader.load(path: model)
        let c = loaded.configuration
        print("file: \(model)")
        print("kernels: \(KernelPath.summary)")
        print("format: \(loaded.formatDescription), \(String(format: "%.1f", Double(loaded.fileSize) / 1_048_576)) MiB on disk")
        if let name = try? loaded.metadata?.string("general.name") { print("name: \(name)") }
        print("architecture: llama, \(c.layerCount) layers, dim \(c.dimension), \(c.headCount) heads (\(c.kvHeadCount) KV, head dim \(c.headDimension)), ffn \(c.hiddenDimension)")
        print("vocabulary: \(c.vocabularySize) tokens\(c.tiedEmbeddings ? ", classifier tied to the embedding" : "")")
        print("context: \(c.contextLength), RoPE base \(c.ropeFrequencyBase), RMS norm epsilon \(c.rmsNormEpsilon)")
        print(String(format: "parameters: %.2f M (%.1f MiB as F32)", Double(c.parameterCount) / 1e6, Double(c.parameterCount) * 4 / 1_048_576))
        // What `generate` would plan for at its defaults (EngineOptions).
        let defaults = EngineConfiguration(threadCount: ProcessInfo.processInfo.activeProcessorCount, maxBatchTokens: 512, kvCacheMegabytes: 512)
        let plan = MemoryPlan(model: loaded, configuration: defaults)
        let available = MemoryPlan.availableMemory().map { ", \(MemoryPlan.format($0)) available" } ?? ""
        print("memory plan at the defaults (--max-batch-tokens 512, --kv-cache-mb 512, --context \(c.contextLength)): \(plan)\(available)")
        if let metadata = loaded.metadata, let kind = try? metadata.string("tokenizer.ggml.model") {
            let pre = (try? metadata.string("tokenizer.ggml.pre")) ?? nil
            print("tokenizer: \(kind)\(pre.map { ", pre-tokenizer \($0)" } ?? "")")
        }
        if !loaded.tensors.isEmpty {
            var byType: [String: (count: Int, bytes: Int)] = [:]
            for t in loaded.tensors { byType[t.type.name, default: (0, 0)].count += 1; byType[t.type.name]!.bytes += t.byteCount }
            let summary = byType.sorted { $0.key < $1.key }.map { "\($0.value.count) \($0.key) (\(String(format: "%.1f", Double($0.value.bytes) / 1_048_576)) MiB)" }
            print("tensors: \(loaded.tensors.count): " + summary.joined(separator: ", "))
            for t in loaded.tensors where tensors || !t.name.hasPrefix("blk.") || t.name.hasPrefix("blk.0.") {
                print("  \(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(t.type.name.padding(toLength: 5, withPad: " ", startingAt: 0)) \(t.dimensions)")
            }
            if !tensors && c.layerCount > 1 { print("  (blk.1 ... blk.\(c.layerCount - 1) alike; --tensors lists all)") }
        }
    }
}
