import Foundation
import Testing
@testable import Swiftlet

/// Every ggml tensor type is readable: files holding types the kernels cannot multiply are
/// inspected and tokenized, and refused for generation with the tensor and type named.
@Suite("Tensor types")
struct TensorTypeTests {
    /// ggml's type traits (blck_size, type_size), spot-checked per family.
    @Test func blockShapesAreGgmls() {
        let expected: [(GGMLType, Int, Int)] = [
            (.f64, 1, 8), (.i8, 1, 1), (.i16, 1, 2), (.i32, 1, 4), (.i64, 1, 8), (.q4_1, 32, 20), (.q5_0, 32, 22),
            (.q5_1, 32, 24), (.q8_1, 32, 36), (.q2_K, 256, 84), (.q3_K, 256, 110), (.q4_K, 256, 144), (.q5_K, 256, 176),
            (.q6_K, 256, 210), (.q8_K, 256, 292), (.iq2_xxs, 256, 66), (.iq2_xs, 256, 74), (.iq2_s, 256, 82),
            (.iq3_xxs, 256, 98), (.iq3_s, 256, 110), (.iq1_s, 256, 50), (.iq1_m, 256, 56), (.iq4_nl, 32, 18),
            (.iq4_xs, 256, 136), (.tq1_0, 256, 54), (.tq2_0, 256, 66), (.mxfp4, 32, 17),
        ]
        for (type, size, bytes) in expected {
            #expect(type.blockSize == size && type.blockBytes == bytes, "\(type.name)")
        }
        #expect(Set(GGMLType.allCases.map(\.name)).count == GGMLType.allCases.count)
        for type in GGMLType.allCases { #expect(GGMLType(name: type.name.lowercased()) == type) }
        #expect(GGMLType(rawValue: 4) == nil && GGMLType(rawValue: 31) == nil)
    }

    @Test func fileTypesHaveLlamaCppsNames() {
        #expect(GGUFFileType.name(of: 15) == "Q4_K - Medium")
        #expect(GGUFFileType.name(of: 3) == "Q4_1")
        #expect(GGUFFileType.name(of: 25) == "IQ4_NL - 4.5 bpw")
        #expect(GGUFFileType.name(of: 0) == "all F32")
        #expect(GGUFFileType.name(of: 999) == "file type 999")
    }

    /// The tiny test model with `blk.0.ffn_down.weight` replaced by zero blocks of `type`
    /// (the hidden size 256 is one block of every type), and `general.file_type` set.
    static func model(with type: GGMLType, fileType: Int) throws -> [UInt8] {
        let source = try GGUFFile(file: MappedFile(bytes: TestModels.tiny(hidden: 256)))
        var writer = GGUFWriter()
        for key in source.metadata.keys { writer.add(key, source.metadata[key]!) }
        writer.add("general.file_type", .uint32(UInt32(fileType)))
        for t in source.tensors {
            if t.name == "blk.0.ffn_down.weight" {
                let bytes = t.elementCount / type.blockSize * type.blockBytes
                writer.addTensor(t.name, dimensions: t.dimensions, type: type, data: [UInt8](repeating: 0, count: bytes))
            } else {
                writer.addTensor(t.name, dimensions: t.dimensions, type: t.type, data: Array(source.data(of: t)))
            }
        }
        return writer.serialized()
    }

    /// Types the kernels do not multiply: the file parses, `load` names tensor and type.
    @Test(arguments: [GGMLType.iq2_xs, .iq1_m, .tq1_0, .q8_1, .mxfp4, .f64, .i32])
    func unmultipliableTypesFailToLoadByName(type: GGMLType) throws {
        let bytes = try Self.model(with: type, fileType: 1)
        let file = try GGUFFile(file: MappedFile(bytes: bytes))
        #expect(file.tensor(named: "blk.0.ffn_down.weight")?.type == type)
        #expect(throws: ModelFileError.self) { try TestModels.load(bytes) }
        do {
            _ = try TestModels.load(bytes)
        } catch {
            #expect("\(error)".contains("tensor 'blk.0.ffn_down.weight' has type \(type.name)"), "\(error)")
        }
    }

    /// `inspect` and `tokenize` do not refuse such a file; `inspect` shows the file type and
    /// the tensors and bytes per type.
    @Test func inspectAndTokenizeReadAnyType() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-types-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("iq2.gguf").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(try Self.model(with: .iq2_xxs, fileType: 15)))
        let inspect = try runSwiftlet(["inspect", "--model", path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("file type: Q4_K - Medium"), "\(inspect.stdout)")
        // 2 layers x 7 matrices + embedding + output = 16 F32 matrices, minus the one IQ2_XXS,
        // plus 2 x 2 + 1 norms.
        #expect(inspect.stdout.contains("F32     20 tensors"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("IQ2_XXS 1 tensors, \(32 * 256 / 256 * 66) bytes"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("generation: not possible: unsupported model file: tensor 'blk.0.ffn_down.weight' has type IQ2_XXS"),
                "\(inspect.stdout)")
        let tokenize = try runSwiftlet(["tokenize", "--model", path, "--json", "hi"])
        #expect(tokenize.status == 0, "\(tokenize.stderr)")
        #expect(tokenize.stdout.hasPrefix("[1,"), "\(tokenize.stdout)")
        let generate = try runSwiftlet(["generate", "--model", path, "--prompt", "hi", "--max-tokens", "2"])
        #expect(generate.status != 0)
        #expect(generate.stderr.contains("'blk.0.ffn_down.weight' has type IQ2_XXS"), "\(generate.stderr)")
    }
}
