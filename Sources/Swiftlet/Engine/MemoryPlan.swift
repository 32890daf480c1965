import Foundation

/// The bytes an engine will need, computed from the model and the engine's settings before
/// any run state is allocated, so a model or a flag that asks for more memory than the
/// machine has is refused with the numbers instead of failing an allocation.
///
/// The parts are upper bounds of what `Transformer`, `PagedAttention`, `PagedKVCache`,
/// `BlockPool` and the samplers allocate (their buffers are lazily backed, so a run that
/// never fills them uses less).
public struct MemoryPlan: Sendable, Equatable, CustomStringConvertible {
    /// Weights mapped from the checkpoint file (page cache, shared, reclaimable).
    public var mappedWeightBytes: Int
    /// Weights held in process memory: decoded norms, and the whole file when it was read
    /// into memory rather than mapped.
    public var residentWeightBytes: Int
    /// Keys and values of the KV cache (`kvCacheMegabytes` or `kvCacheBlocks`).
    public var kvCacheBytes: Int
    /// The `(maxBatchTokens, vocabulary)` logits buffer.
    public var logitBytes: Int
    /// Activations of one step (`maxBatchTokens` rows) and attention scores
    /// (`threads × rows × maxContext`).
    public var scratchBytes: Int
    /// RoPE angles of one step (`maxBatchTokens × rotary dimensions` per RoPE group), one
    /// sampler per running request
    /// (`maxSequences × vocabulary`) and the block pool's bookkeeping.
    public var tableBytes: Int
    /// Shape of the run state the numbers were computed for (for the advice in errors).
    public var maxBatchTokens: Int
    public var maxContext: Int
    public var vocabularySize: Int

    /// Everything, in bytes (saturating: a plan never overflows).
    public var totalBytes: Int {
        [mappedWeightBytes, residentWeightBytes, kvCacheBytes, logitBytes, scratchBytes, tableBytes].reduce(0, Self.add)
    }

    /// The plan of an engine with `configuration` over `model` (and a draft model).
    public init(model: LoadedModel, configuration: EngineConfiguration, draftModel: LoadedModel? = nil) {
        let c = model.configuration
        let context = min(configuration.maxContext ?? c.contextLength, c.contextLength)
        let tokens = max(1, configuration.maxBatchTokens)
        let blockSize = max(1, configuration.blockSize)
        let blocks = configuration.kvCacheBlocks
            ?? PagedKVCache.blockCount(c, blockSize: blockSize, megabytes: configuration.kvCacheMegabytes, type: configuration.kvCacheType)
        let kvTokens = Self.multiply(blocks, blockSize)
        self.init(weights: model.weights, batchTokens: tokens, context: context, threads: configuration.threadCount,
                  kvCacheTokens: kvTokens, kvCacheType: configuration.kvCacheType, sequences: configuration.maxSequences)
        tableBytes = Self.add(tableBytes, Self.multiply(blocks, Self.blockBookkeepingBytes))
        if let draftModel {
            // The drafter's own run state and a cache as long as the target's, in F32.
            let draft = MemoryPlan(weights: draftModel.weights, batchTokens: tokens,
                                   context: min(context, draftModel.configuration.contextLength), threads: configuration.threadCount,
                                   kvCacheTokens: Self.add(kvTokens, 32), kvCacheType: .f32, sequences: configuration.maxSequences)
            mappedWeightBytes = Self.add(mappedWeightBytes, draft.mappedWeightBytes)
            residentWeightBytes = Self.add(residentWeightBytes, draft.residentWeightBytes)
            kvCacheBytes = Self.add(kvCacheBytes, draft.kvCacheBytes)
            logitBytes = Self.add(logitBytes, draft.logitBytes)
            scratchBytes = Self.add(scratchBytes, draft.scratchBytes)
            tableBytes = Self.add(tableBytes, draft.tableBytes)
        }
    }

    /// The plan of one decoder's run state: `batchTokens` rows a step, sequences up to
    /// `context` positions, a cache of `kvCacheTokens`, `sequences` samplers.
    public init(weights: ModelWeights, batchTokens: Int, context: Int, threads: Int, kvCacheTokens: Int,
                kvCacheType: KVCacheType, sequences: Int) {
        let c = weights.configuration
        let t = max(1, batchTokens)
        let attentionContext = max(1, min(context, Transformer.positionLimit))
        let m = Self.multiply
        mappedWeightBytes = weights.mappedByteCount
        residentWeightBytes = weights.residentByteCount
        kvCacheBytes = m(kvCacheTokens, PagedKVCache.bytesPerToken(c, type: kvCacheType))
        logitBytes = m(m(t, c.vocabularySize), 4)
        // Mirrors `Transformer`'s run state: x, xb2 (dim), q (queryDim), k, v (kvDim), hb2
        // (hidden) as plain floats; xb, attention, hb and the classifier input as activation buffers.
        let floatColumns = [c.dimension, c.dimension, c.queryDimension, c.kvDimension, c.kvDimension, c.hiddenDimension].reduce(0, Self.add)
        var scratch = m(m(t, floatColumns), 4)
        for (columns, formats) in [(c.dimension, weights.inputFormats), (c.queryDimension, weights.attentionOutputFormats),
                                   (c.hiddenDimension, weights.downFormats), (c.dimension, [weights.classifier.format])] {
            scratch = Self.add(scratch, ActivationBuffer.byteCount(capacity: t, columns: columns, formats: formats))
        }
        scratch = Self.add(scratch, PagedAttention.scratchBytes(configuration: c, maxBatchTokens: t, maxContext: attentionContext,
                                                                 threadCount: max(1, threads)))
        scratchBytes = scratch
        let rope = m(m(m(2, t), m(max(1, c.layerCount), c.ropeDimensionCount / 2)), 4)  // cos and sin per group (≤ layers)
        // adjusted, probabilities, order and penalty counts: four 4-byte numbers per token.
        let samplers = m(m(max(1, sequences), c.vocabularySize), 16)
        tableBytes = Self.add(rope, samplers)
        maxBatchTokens = t
        maxContext = context
        vocabularySize = c.vocabularySize
    }

    /// Bytes of bookkeeping per KV block in `BlockPool` (reference count, generation, prefix
    /// key, free list and LRU links), rounded up.
    static let blockBookkeepingBytes = 64

    /// The parts, largest first, with the setting that lowers each.
    public var parts: [(name: String, bytes: Int, advice: String)] {
        [
            ("logits", logitBytes, "lower maxBatchTokens (--max-batch-tokens): \(maxBatchTokens) rows x \(vocabularySize) tokens x 4 bytes"),
            ("KV cache", kvCacheBytes, "lower kvCacheMegabytes (--kv-cache-mb), or use --kv-cache-type f16"),
            ("scratch", scratchBytes, "lower maxBatchTokens (--max-batch-tokens), or the context (--context, now \(maxContext))"),
            ("tables", tableBytes, "lower the context (--context) or maxSequences (--max-sequences)"),
            ("weights mapped from the file", mappedWeightBytes, "use a smaller or more quantized model file"),
            ("weights in memory", residentWeightBytes, "use a smaller or more quantized model file"),
        ].sorted { $0.1 > $1.1 }
    }

    /// One line: the total and each part.
    public var description: String {
        "\(Self.format(totalBytes)) (weights \(Self.format(mappedWeightBytes)) mapped + \(Self.format(residentWeightBytes)) in memory, "
            + "KV cache \(Self.format(kvCacheBytes)), logits \(Self.format(logitBytes)), scratch \(Self.format(scratchBytes)), "
            + "tables \(Self.format(tableBytes)))"
    }

    /// Throws `MemoryPlanError` when the plan passes `limitBytes` (an explicit cap, e.g.
    /// `--max-memory-mb`) or the memory the machine has available (`availableBytes`).
    public func check(limitBytes: Int?, availableBytes: Int? = MemoryPlan.availableMemory()) throws {
        if let limitBytes, totalBytes > limitBytes {
            throw MemoryPlanError(plan: self, limitBytes: limitBytes, limitName: "the limit of --max-memory-mb")
        }
        if let available = availableBytes, totalBytes > available {
            throw MemoryPlanError(plan: self, limitBytes: available, limitName: "available memory (\(MemoryPlan.availableMemorySource))")
        }
    }

    /// Memory this process may still use: /proc/meminfo's MemAvailable, lowered to the room
    /// left under a cgroup memory limit (v2 `memory.max`, or v1 `memory.limit_in_bytes`).
    /// nil where neither is readable.
    public static func availableMemory(meminfo: String? = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
                                       cgroupLimit: Int? = cgroupRoom()) -> Int? {
        var available: Int?
        if let meminfo {
            for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kib = Int(fields[1]) { available = multiply(kib, 1024) }
            }
        }
        guard let cgroupLimit else { return available }
        return min(available ?? cgroupLimit, cgroupLimit)
    }

    /// Where `availableMemory()` comes from, for messages.
    public static let availableMemorySource = "MemAvailable, and the cgroup limit if any"

    /// Room left under this process's cgroup memory limit, nil without one.
    public static func cgroupRoom() -> Int? {
        func number(_ path: String) -> Int? {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // cgroup v2 (a "max" limit does not parse: no limit).
        if let limit = number("/sys/fs/cgroup/memory.max") {
            return max(0, limit - (number("/sys/fs/cgroup/memory.current") ?? 0))
        }
        // cgroup v1; "no limit" is a number near Int64.max.
        if let limit = number("/sys/fs/cgroup/memory/memory.limit_in_bytes"), limit < 1 << 60 {
            return max(0, limit - (number("/sys/fs/cgroup/memory/memory.usage_in_bytes") ?? 0))
        }
        return nil
    }

    /// `bytes` in MiB or GiB, one decimal.
    public static func format(_ bytes: Int) -> String {
        let mib = Double(bytes) / 1_048_576
        return mib >= 1024 ? String(format: "%.1f GiB", mib / 1024) : String(format: "%.1f MiB", mib)
    }

    static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    static func multiply(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? Int.max : product
    }
}

/// A memory plan that passes the limit: the numbers, and the setting that would lower the
/// largest part.
public struct MemoryPlanError: Error, CustomStringConvertible, Equatable {
    public let plan: MemoryPlan
    public let limitBytes: Int
    /// "available memory (...)" or "the limit of --max-memory-mb".
    public let limitName: String

    public var description: String {
        let largest = plan.parts[0]
        return "not enough memory: this model with these settings needs \(plan), "
            + "more than \(limitName), \(MemoryPlan.format(limitBytes)); the largest part is the \(largest.name), "
            + "\(MemoryPlan.format(largest.bytes)): \(largest.advice)"
    }
}
