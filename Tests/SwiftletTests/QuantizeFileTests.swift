import Foundation
import Testing
@testable import Swiftlet

/// `WeightQuantizer.quantize` and `swiftlet quantize`: a float GGUF file re-encoded through
/// the writer and read back.
@Suite("Quantize files")
struct QuantizeFileTests {
    @Test(arguments: Block32KernelTests.types)
    func quantizedFileRoundTripsThroughWriterAndReader(type: GGMLType) throws {
        let source = try GGUFFile(file: MappedFile(bytes: TestModels.tiny(dimension: 64, hidden: 96)))
        let bytes = try WeightQuantizer.quantize(source, to: type).serialized()
        let file = try GGUFFile(file: MappedFile(bytes: bytes))
        #expect(try file.metadata.int("general.file_type") == WeightQuantizer.fileTypeCode(of: type))
        #expect(try file.metadata.string("general.architecture") == "llama")
        for tensor in source.tensors {
            let written = try #require(file.tensor(named: tensor.name))
            let expectedType: GGMLType = tensor.dimensions.count == 1 ? tensor.type
                : ["token_embd.weight", "output.weight"].contains(tensor.name) ? .q8_0 : type
            #expect(written.type == expectedType && written.dimensions == tensor.dimensions, "\(tensor.name)")
            guard expectedType != tensor.type else {
                #expect(Array(file.data(of: written)) == Array(source.data(of: tensor)))
                continue
            }
            // The stored blocks are the encoder's, and decode to within the format's error.
            let floats = Array(source.data(of: tensor).bindMemory(to: Float.self))
            #expect(Array(file.data(of: written)) == (try WeightQuantizer.encode(floats, columns: tensor.dimensions[0], as: expectedType)))
            var back = [Float](repeating: .nan, count: floats.count)
            WeightFormat(expectedType)!.dequantizeRow(file.data(of: written).baseAddress!, into: &back, count: floats.count)
            let error = zip(floats, back).map { Double(abs($0 - $1)) }.max()!
            let amax = Double(floats.map(abs).max()!)
            #expect(error < amax * 0.2, "\(tensor.name): max error \(error)")
        }
        // The quantized model loads and runs.
        let model = try ModelLoader.load(file: MappedFile(bytes: bytes))
        #expect(model.weights.layers[0].down.format.type == type)
    }

    /// A super-block type on matrices whose rows are not whole 256-element blocks (dim 64)
    /// falls back as llama.cpp's quantizer does; rows of 256 (hidden) take the type itself.
    @Test(arguments: [(GGMLType.q4_K, GGMLType.q5_0), (.q6_K, .q8_0), (.q3_K, .iq4_nl), (.q5_K, .q5_1)])
    func superBlockTypesFallBackOnShortRows(type: GGMLType, fallback: GGMLType) throws {
        let source = try GGUFFile(file: MappedFile(bytes: TestModels.tiny(dimension: 64, hidden: 256)))
        let bytes = try WeightQuantizer.quantize(source, to: type).serialized()
        let file = try GGUFFile(file: MappedFile(bytes: bytes))
        #expect(file.tensor(named: "blk.0.attn_q.weight")?.type == fallback)  // rows of 64
        #expect(file.tensor(named: "blk.0.ffn_down.weight")?.type == type)  // rows of 256
        #expect(try file.metadata.int("general.file_type") == WeightQuantizer.fileTypeCode(of: type))
        let model = try ModelLoader.load(file: MappedFile(bytes: bytes))
        #expect(model.weights.layers[0].down.format.type == type)
    }

    @Test func quantizerRefusesWhatItCannotWrite() throws {
        let source = try GGUFFile(file: MappedFile(bytes: TestModels.tiny()))
        #expect(throws: WeightQuantizer.Failure.self) { try WeightQuantizer.quantize(source, to: .iq2_xs) }
        let quantized = try GGUFFile(file: MappedFile(bytes: WeightQuantizer.quantize(source, to: .q8_0).serialized()))
        #expect(throws: WeightQuantizer.Failure.self) { try WeightQuantizer.quantize(quantized, to: .q5_0, embeddingType: .q5_0) }
    }

    @Test func quantizeCommandWritesALoadableFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-quantize-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("f32.gguf").path, output = directory.appendingPathComponent("q5_1.gguf").path
        _ = FileManager.default.createFile(atPath: input, contents: Data(TestModels.tiny(dimension: 64, hidden: 96)))
        let run = try runSwiftlet(["quantize", "--input", input, "--output", output, "--type", "q5_1"])
        #expect(run.status == 0, "\(run.stderr)")
        let inspect = try runSwiftlet(["inspect", "--model", output])
        #expect(inspect.stdout.contains("file type: Q5_1") && inspect.stdout.contains("Q5_1    14 tensors"), "\(inspect.stdout)")
        let generate = try runSwiftlet(["generate", "--model", output, "--prompt", "the", "--max-tokens", "4", "--ignore-eos"])
        #expect(generate.status == 0, "\(generate.stderr)")
        let bad = try runSwiftlet(["quantize", "--input", input, "--output", output, "--type", "IQ2_XS"])
        #expect(bad.status != 0 && bad.stderr.contains("'IQ2_XS' is not one of"), "\(bad.stderr)")
        let missing = try runSwiftlet(["quantize", "--input", input + ".none", "--output", output, "--type", "Q4_1"])
        #expect(missing.status != 0 && !missing.stderr.isEmpty)
    }
}
