import Testing
@testable import Swiftlet

@Suite("GGUF round trip")
struct GGUFRoundTripTests {
    @Test func writerOutputReadsBack() throws {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("llama.block_count", .uint32(2))
        writer.add("nested", .array([.array([.int8(-1), .int8(2)]), .array([.int8(3)])]))
        writer.add("floats", .array([.float32(1.5), .float32(-2)]))
        writer.add("wide", .uint64(1 << 40))
        writer.addTensor("w", dimensions: [3, 2], floats: [1, 2, 3, 4, 5, 6])
        writer.addTensor("b", dimensions: [5], floats: [9, 8, 7, 6, 5])
        let file = try GGUFFile(file: MappedFile(bytes: writer.serialized()))
        #expect(file.version == 3)
        #expect(try file.metadata.string("general.architecture") == "llama")
        #expect(try file.metadata.int("llama.block_count") == 2)
        #expect(try file.metadata.int("wide") == 1 << 40)
        #expect(try file.metadata.doubleArray("floats") == [1.5, -2])
        #expect(file.metadata["nested"] == .array([.array([.int8(-1), .int8(2)]), .array([.int8(3)])]))
        #expect(file.metadata.keys == ["general.architecture", "llama.block_count", "nested", "floats", "wide"])
        let w = try #require(file.tensor(named: "w"))
        #expect(w.dimensions == [3, 2])
        #expect(w.fileOffset % 32 == 0)
        let floats = Array(file.data(of: w).bindMemory(to: Float.self))
        #expect(floats == [1, 2, 3, 4, 5, 6])
        let b = try #require(file.tensor(named: "b"))
        #expect(Array(file.data(of: b).bindMemory(to: Float.self)) == [9, 8, 7, 6, 5])
    }
}
