import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet quantize --input F32_OR_F16.gguf --output OUT.gguf --type T`: re-encodes a
/// float GGUF file's weights in one ggml type (WeightQuantizer.quantize says which tensors).
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a GGUF file's F32/F16/BF16 weights in another ggml type.",
        discussion: """
            Matrices are re-encoded in --type; token_embd.weight and output.weight in \
            --embedding-type (default Q8_0 for block types, as llama.cpp keeps these in a higher \
            type); norms stay as they are. Metadata is copied and general.file_type set.
            """)

    @Option(name: .long, help: "The GGUF file to read (weights in F32, F16 or BF16).")
    var input: String

    @Option(name: .long, help: "The GGUF file to write.")
    var output: String

    @Option(name: .long, help: "The weight type: \(WeightQuantizer.writableTypes.map(\.name).joined(separator: ", ")).")
    var type: String

    @Option(name: .long, help: "The type of token_embd.weight and output.weight (default Q8_0 for block types).")
    var embeddingType: String?

    func run() throws {
        func parse(_ name: String, _ flag: String) throws -> GGMLType {
            guard let type = GGMLType(name: name), WeightQuantizer.writableTypes.contains(type) else {
                throw ValidationError("\(flag) '\(name)' is not one of \(WeightQuantizer.writableTypes.map(\.name).joined(separator: ", "))")
            }
            return type
        }
        let target = try parse(type, "--type")
        let embedding = try embeddingType.map { try parse($0, "--embedding-type") }
        let file = try GGUFFile(path: input)
        let bytes = try WeightQuantizer.quantize(file, to: target, embeddingType: embedding).serialized()
        guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
            throw WeightQuantizer.Failure(description: "cannot write --output '\(output)'")
        }
        printError("quantize: wrote \(output) (\(bytes.count) bytes, \(target.name))")
    }
}
