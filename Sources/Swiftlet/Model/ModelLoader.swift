/// A checkpoint loaded into memory: hyperparameters, weights and, for GGUF, its metadata
/// (from which the tokenizer is built).
public struct LoadedModel: @unchecked Sendable {
    public let configuration: ModelConfiguration
    public let weights: ModelWeights
    /// "GGUF v3", "llama2.c", ...
    public let formatDescription: String
    /// GGUF metadata; nil for llama2.c checkpoints.
    public let metadata: GGUFMetadata?
    /// Tensor names, shapes and types, for `inspect`.
    public let tensors: [GGUFTensorInfo]
    /// Size of the checkpoint file in bytes.
    public let fileSize: Int
}

/// What `inspect` shows of a checkpoint: everything but the weights, so files whose tensor
/// types the kernels cannot multiply are described too.
public struct CheckpointSummary: @unchecked Sendable {
    public let configuration: ModelConfiguration
    /// "GGUF v3", "llama2.c v0".
    public let formatDescription: String
    /// GGUF metadata; nil for llama2.c checkpoints.
    public let metadata: GGUFMetadata?
    /// Tensor names, shapes and types (empty for llama2.c).
    public let tensors: [GGUFTensorInfo]
    /// Size of the checkpoint file in bytes.
    public let fileSize: Int
    /// Why the weights cannot be loaded for generation (e.g. a tensor type the kernels do not
    /// multiply), or nil when they can.
    public let loadError: String?
}

/// Loads a checkpoint, choosing the reader from the file's first bytes.
public enum ModelLoader {
    /// Loads a GGUF (v2/v3) or llama2.c (`.bin` v0) checkpoint.
    /// - Throws: `ModelFileError` naming the problem for unreadable, corrupt or unsupported files.
    public static func load(path: String) throws -> LoadedModel {
        try load(file: MappedFile(path: path))
    }

    /// Loads a checkpoint from bytes already in memory or mapped.
    public static func load(file: MappedFile) throws -> LoadedModel {
        guard file.bytes.count >= 4 else {
            throw ModelFileError.malformed("file is too short to be a checkpoint (\(file.bytes.count) bytes)")
        }
        if file.bytes.loadUnaligned(as: UInt32.self) == 0x4655_4747 {
            let gguf = try GGUFFile(file: file)
            let model = try GGUFModel(file: gguf)
            return LoadedModel(
                configuration: model.configuration, weights: try model.weights(),
                formatDescription: "GGUF v\(gguf.version)", metadata: gguf.metadata,
                tensors: gguf.tensors, fileSize: file.bytes.count)
        }
        let checkpoint = try Llama2CCheckpoint(file: file)
        return LoadedModel(
            configuration: checkpoint.configuration, weights: try checkpoint.weights(),
            formatDescription: "llama2.c v0", metadata: nil, tensors: [], fileSize: file.bytes.count)
    }

    /// Reads a checkpoint's hyperparameters, metadata and tensor table without requiring that
    /// its weights can be multiplied; `loadError` says whether `load` would fail on them.
    public static func summarize(path: String) throws -> CheckpointSummary {
        let file = try MappedFile(path: path)
        guard file.bytes.count >= 4, file.bytes.loadUnaligned(as: UInt32.self) == 0x4655_4747 else {
            let loaded = try load(file: file)
            return CheckpointSummary(
                configuration: loaded.configuration, formatDescription: loaded.formatDescription, metadata: nil,
                tensors: [], fileSize: file.bytes.count, loadError: nil)
        }
        let gguf = try GGUFFile(file: file)
        let model = try GGUFModel(file: gguf)
        var loadError: String?
        do { _ = try model.weights() } catch { loadError = "\(error)" }
        return CheckpointSummary(
            configuration: model.configuration, formatDescription: "GGUF v\(gguf.version)", metadata: gguf.metadata,
            tensors: gguf.tensors, fileSize: file.bytes.count, loadError: loadError)
    }
}
