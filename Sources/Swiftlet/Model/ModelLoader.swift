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
}
