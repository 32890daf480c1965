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
        let loaded = try ModelLoader.summarize(path: model)
        let c = loaded.configuration
        print("file: \(model)")
        print("kernels: \(KernelPath.summary)")
        print("format: \(loaded.formatDescription), \(String(format: "%.1f", Double(loaded.fileSize) / 1_048_576)) MiB on disk")
        if let name = try? loaded.metadata?.string("general.name") { print("name: \(name)") }
        if let metadata = loaded.metadata, let fileType = GGUFFileType.name(in: metadata) { print("file type: \(fileType)") }
        print("architecture: \(c.architecture), \(c.layerCount) layers, dim \(c.dimension), \(c.headCount) heads (\(c.kvHeadCount) KV, head dim \(c.headDimension)), ffn \(c.hiddenDimension)")
        print("vocabulary: \(c.vocabularySize) tokens\(c.tiedEmbeddings ? ", classifier tied to the embedding" : "")")
        print("context: \(c.contextLength), RoPE base \(c.ropeFrequencyBase), RMS norm epsilon \(c.rmsNormEpsilon)")
        let windows = (0..<c.layerCount).compactMap { c.layerSpec($0).slidingWindow }
        if let window = windows.first {
            print("sliding window: \(window) positions on \(windows.count) of \(c.layerCount) layers")
        }
        print(String(format: "parameters: %.2f M (%.1f MiB as F32)", Double(c.parameterCount) / 1e6, Double(c.parameterCount) * 4 / 1_048_576))
        // What `generate` would plan for at its defaults (EngineOptions).
        let defaults = EngineConfiguration(threadCount: ProcessInfo.processInfo.activeProcessorCount, maxBatchTokens: 512, kvCacheMegabytes: 512)
        // The plan needs the weights: only for a file the kernels can run.
        if loaded.loadError == nil, let weights = try? ModelLoader.load(path: model) {
            let plan = MemoryPlan(model: weights, configuration: defaults)
            let available = MemoryPlan.availableMemory().map { ", \(MemoryPlan.format($0)) available" } ?? ""
            print("memory plan at the defaults (--max-batch-tokens 512, --kv-cache-mb 512, --context \(c.contextLength)): \(plan)\(available)")
        }
        if let metadata = loaded.metadata, let kind = try? metadata.string("tokenizer.ggml.model") {
            let pre = (try? metadata.string("tokenizer.ggml.pre")) ?? nil
            print("tokenizer: \(kind)\(pre.map { ", pre-tokenizer \($0)" } ?? "")")
        }
        if !loaded.tensors.isEmpty {
            print("tensors: \(loaded.tensors.count)")
            for line in Self.typeSummary(loaded.tensors) { print("  " + line) }
            for t in loaded.tensors where tensors || !t.name.hasPrefix("blk.") || t.name.hasPrefix("blk.0.") {
                print("  \(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(t.type.name.padding(toLength: 7, withPad: " ", startingAt: 0)) \(t.dimensions)")
            }
            if !tensors && c.layerCount > 1 { print("  (blk.1 ... blk.\(c.layerCount - 1) alike; --tensors lists all)") }
        }
        if let error = loaded.loadError { print("generation: not possible: \(error)") }
    }

    /// One line per tensor type, in ggml code order: "Q4_K: 97 tensors, 45,678,592 bytes (43.6 MiB)".
    static func typeSummary(_ tensors: [GGUFTensorInfo]) -> [String] {
        var byType: [GGMLType: (count: Int, bytes: Int)] = [:]
        for t in tensors {
            byType[t.type, default: (0, 0)].count += 1
            byType[t.type]!.bytes += t.byteCount
        }
        return byType.sorted { $0.key.rawValue < $1.key.rawValue }.map { type, total in
            let mib = String(format: "%.1f", Double(total.bytes) / 1_048_576)
            return "\(type.name.padding(toLength: 7, withPad: " ", startingAt: 0)) \(total.count) tensors, \(total.bytes) bytes (\(mib) MiB)"
        }
    }
}
