import ArgumentParser
import Foundation
import Swiftlet

/// Model and engine options shared by `generate`, `bench`, `batch` and `perplexity`.
struct EngineOptions: ParsableArguments {
    @Option(name: [.long, .customShort("m")], help: "GGUF or llama2.c checkpoint (default: the shipped Models/shakespeare-target.gguf).")
    var model: String?

    @Option(name: .long, help: "A llama2.c tokenizer.bin for checkpoints without a vocabulary.")
    var tokenizer: String?

    @Option(name: [.long, .customShort("t")], help: "Compute threads.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "Token budget of one engine step (decodes plus prompt chunks).")
    var maxBatchTokens: Int = 512

    @Option(name: .long, help: "Most requests running at once.")
    var maxSequences: Int = 64

    @Option(name: .customLong("kv-cache-mb"), help: "Memory for the KV cache, in MiB.")
    var kvCacheMB: Int = 512

    @Option(name: .customLong("kv-cache-type"), help: "Number format of the KV cache: f32 (exact) or f16 (half the memory, llama.cpp's default).")
    var kvCacheType: String = "f32"

    @Option(name: [.long, .customShort("c"), .customLong("ctx-size")], help: "Longest sequence, prompt plus generated (default: the model's context length).")
    var context: Int?

    @Option(name: .customLong("max-memory-mb"), help: "Refuse to start when the memory plan (weights, KV cache, logits, scratch, tables) passes this many MiB (default: the memory available).")
    var maxMemoryMB: Int?

    @Option(name: [.long, .customLong("model-draft"), .customLong("md", withSingleDash: true)], help: "Draft model for speculative decoding (same vocabulary as --model).")
    var draftModel: String?

    @Option(name: .long, help: "Drafter: model (needs --draft-model) or ngram (prompt lookup, no model).")
    var draft: String?

    @Option(name: .long, help: "Share KV blocks between requests with a common prefix: on or off.")
    var prefixCache: String = "on"

    func validate() throws {
        do { try KernelPath.validateEnvironment(ProcessInfo.processInfo.environment) } catch { throw ValidationError("\(error)") }
        if let draft, draft != "model" && draft != "ngram" { throw ValidationError("--draft must be model or ngram") }
        if draft == "model" && draftModel == nil { throw ValidationError("--draft model needs --draft-model PATH") }
        guard KVCacheType(rawValue: kvCacheType) != nil else { throw ValidationError("--kv-cache-type must be f32 or f16") }
        guard prefixCache == "on" || prefixCache == "off" else { throw ValidationError("--prefix-cache must be on or off") }
        try FlagRange.check(threads, "--threads", EngineConfiguration.threadCountRange)
        try FlagRange.check(maxBatchTokens, "--max-batch-tokens", EngineConfiguration.maxBatchTokensRange)
        try FlagRange.check(maxSequences, "--max-sequences", EngineConfiguration.maxSequencesRange)
        try FlagRange.check(kvCacheMB, "--kv-cache-mb", EngineConfiguration.kvCacheMegabytesRange)
        if let context { try FlagRange.check(context, "--context", EngineConfiguration.maxContextRange) }
        if let maxMemoryMB { try FlagRange.check(maxMemoryMB, "--max-memory-mb", EngineConfiguration.maxMemoryMegabytesRange) }
    }

    /// The model path: `--model`, or the shipped target found from the working directory
    /// or next to the executable's package.
    func modelPath() throws -> String {
        if let model { return model }
        let name = "Models/shakespeare-target.gguf"
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            FileManager.default.currentDirectoryPath + "/" + name,
            // .build/<triple>/release/swiftlet -> package root
            executable.deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(name).path,
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ValidationError("no --model given and the shipped model \(name) was not found")
        }
        return found
    }

    var engineConfiguration: EngineConfiguration {
        EngineConfiguration(threadCount: threads, maxBatchTokens: maxBatchTokens, maxSequences: maxSequences,
                            kvCacheMegabytes: kvCacheMB, kvCacheType: KVCacheType(rawValue: kvCacheType) ?? .f32, maxContext: context, prefixCaching: prefixCache == "on",
                            maxMemoryMegabytes: maxMemoryMB)
    }

    /// The drafter the options ask for, loading the draft model.
    func drafting() throws -> Drafting? {
        if draft == "ngram" { return .promptLookup }
        guard let draftModel else { return nil }
        return .model(try ModelLoader.load(path: draftModel))
    }

    /// The tokenizer given by `--tokenizer`, if any.
    func explicitTokenizer() throws -> (any Tokenizer)? {
        try tokenizer.map { try loadTokenizer(path: $0) }
    }

    /// Loads the model (and `--tokenizer`, and a drafter) and starts an engine.
    func makeEngine(configure: (inout EngineConfiguration) -> Void = { _ in }) throws -> (Engine, LoadedModel) {
        let model = try ModelLoader.load(path: modelPath())
        var configuration = engineConfiguration
        configure(&configuration)
        return (try Engine(model: model, tokenizer: explicitTokenizer(), configuration: configuration, drafting: drafting()), model)
    }
}

/// Parses "1,2,3" into token ids.
func parseTokenList(_ text: String, option: String) throws -> [Int32] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    return try parts.map { part in
        guard let id = Int32(part.trimmingCharacters(in: .whitespaces)), id >= 0 else {
            throw ValidationError("\(option): '\(part)' is not a token id (expected comma-separated non-negative integers)")
        }
        return id
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Loads a tokenizer from a GGUF file's vocabulary or a llama2.c `tokenizer.bin`.
func loadTokenizer(path: String) throws -> any Tokenizer {
    let file = try MappedFile(path: path)
    if file.bytes.count >= 4, file.bytes.loadUnaligned(as: UInt32.self) == 0x4655_4747 {
        return try makeTokenizer(from: GGUFFile(file: file).metadata)
    }
    return try Llama2TokenizerFile.load(path: path)
}
