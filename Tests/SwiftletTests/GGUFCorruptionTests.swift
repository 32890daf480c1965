import Foundation
import Testing
@testable import Swiftlet

/// Builds small valid GGUF files with `GGUFWriter` and corrupts them by byte surgery.
enum GGUFSurgery {
    static let alphaData: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
    static let betaData: [Float] = [-1, -2, -3]

    /// A writer holding every value kind the surgery tests aim at, and two tensors.
    static func writer(tensors: Bool = true) -> GGUFWriter {
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.add("answer", .uint32(42))
        w.add("flag", .bool(true))
        w.add("ints", .array([.int32(1), .int32(2), .int32(3)]))
        w.add("nested", .array([.array([.uint8(1)]), .array([.uint8(2), .uint8(3)])]))
        w.add("pi", .float64(3.25))
        if tensors {
            w.addTensor("tensor.alpha", dimensions: [4, 2], floats: alphaData)
            w.addTensor("tensor.beta", dimensions: [3], floats: betaData)
        }
        return w
    }

    static func validFile(tensors: Bool = true) -> [UInt8] { writer(tensors: tensors).serialized() }

    static func parse(_ bytes: [UInt8]) throws -> GGUFFile {
        try GGUFFile(file: MappedFile(bytes: bytes))
    }

    /// The offset just past the length-prefixed string `s` in `bytes` (the first such occurrence):
    /// for a key, where its value type is; for a tensor name, where its dimension count is.
    static func after(_ s: String, in bytes: [UInt8]) -> Int {
        var needle: [UInt8] = []
        withUnsafeBytes(of: UInt64(s.utf8.count).littleEndian) { needle.append(contentsOf: $0) }
        needle.append(contentsOf: s.utf8)
        for start in 0...(bytes.count - needle.count) where bytes[start..<(start + needle.count)].elementsEqual(needle) {
            return start + needle.count
        }
        fatalError("'\(s)' not found")
    }

    static func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, b) in raw.enumerated() { bytes[offset + i] = b }
        }
    }

    /// Offset of a tensor's type field (after its name, dimension count and dimensions).
    static func tensorTypeOffset(_ name: String, dimensions: Int, in bytes: [UInt8]) -> Int {
        after(name, in: bytes) + 4 + 8 * dimensions
    }

    /// Expects parsing to throw a `ModelFileError` whose description contains every fragment.
    static func expectFailure(
        _ bytes: [UInt8], _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try parse(bytes)
            Issue.record("parsed, expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
        } catch let error as ModelFileError {
            for fragment in fragments {
                #expect(error.description.contains(fragment), "'\(error)' does not mention '\(fragment)'",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("threw \(type(of: error)) \(error), not a ModelFileError", sourceLocation: sourceLocation)
        }
    }

    static func expectFailure(
        _ writer: GGUFWriter, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let bytes = writer.serialized()
        do {
            _ = try parse(bytes)
            Issue.record("parsed, expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
        } catch let error as ModelFileError {
            for fragment in fragments {
                #expect(error.description.contains(fragment), "'\(error)' does not mention '\(fragment)'",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("threw \(type(of: error)) \(error), not a ModelFileError", sourceLocation: sourceLocation)
        }
    }
}

@Suite("GGUF corrupt files")
struct GGUFCorruptionTests {
    typealias S = GGUFSurgery

    @Test func validFileParses() throws {
        let file = try S.parse(S.validFile())
        #expect(file.metadata.keys.count == 6)
        #expect(file.tensors.map(\.name) == ["tensor.alpha", "tensor.beta"])
        #expect(Array(file.data(of: file.tensors[1]).bindMemory(to: Float.self)) == S.betaData)
    }

    @Test func badMagic() {
        var bytes = S.validFile()
        bytes[3] = UInt8(ascii: "G")
        S.expectFailure(bytes, "bad magic")
        S.expectFailure([UInt8]("GGML".utf8) + bytes[4...], "bad magic")
        S.expectFailure([], "truncated")
        S.expectFailure([0x47, 0x47], "truncated")
    }

    @Test(arguments: [UInt32(0), 1, 4, 0x0300_0000, .max])
    func badVersion(_ version: UInt32) {
        var bytes = S.validFile()
        S.put(version, at: 4, in: &bytes)
        S.expectFailure(bytes, "version \(version)")
    }

    @Test(arguments: [UInt64(1) << 63, .max, 1 << 32, 1000])
    func absurdCounts(_ count: UInt64) {
        var tensors = S.validFile()
        S.put(count, at: 8, in: &tensors)
        S.expectFailure(tensors, "tensor count \(count)", "larger than the file")
        var entries = S.validFile()
        S.put(count, at: 16, in: &entries)
        S.expectFailure(entries, "metadata count \(count)", "larger than the file")
    }

    @Test(arguments: [UInt32(13), 99, .max])
    func badValueType(_ code: UInt32) {
        var bytes = S.validFile()
        S.put(code, at: S.after("answer", in: bytes), in: &bytes)
        S.expectFailure(bytes, "unknown metadata value type \(code)", "answer")
    }

    @Test(arguments: [UInt32(13), 1000, .max])
    func badArrayElementType(_ code: UInt32) {
        var bytes = S.validFile()
        S.put(code, at: S.after("ints", in: bytes) + 4, in: &bytes)
        S.expectFailure(bytes, "unknown array element type \(code)", "ints")
    }

    @Test func duplicateKey() {
        var w = S.writer()
        w.add("answer", .uint32(43))
        S.expectFailure(w, "duplicate metadata key 'answer'")
    }

    @Test func duplicateTensorName() {
        var w = S.writer()
        w.addTensor("tensor.beta", dimensions: [2], floats: [1, 2])
        S.expectFailure(w, "duplicate tensor name 'tensor.beta'")
    }

    @Test func badAlignment() throws {
        for value in [UInt32(0), 3, 48, 100, 0x8000_0001] {
            var w = S.writer()
            w.add("general.alignment", .uint32(value))
            S.expectFailure(w, "general.alignment \(value)", "power of two")
        }
        var tooBig = S.writer()
        tooBig.add("general.alignment", .uint32(1 << 21))
        S.expectFailure(tooBig, "power of two up to 1 MiB")
        for wrong: GGUFValue in [.uint64(32), .int32(32), .string("32"), .float32(32), .array([.uint32(32)])] {
            var w = S.writer()
            w.add("general.alignment", wrong)
            S.expectFailure(w, "general.alignment must be a uint32")
        }
        // A valid non-default alignment reads back, with tensors placed on it.
        var good = S.writer()
        good.alignment = 64
        good.add("general.alignment", .uint32(64))
        let file = try S.parse(good.serialized())
        #expect(file.alignment == 64)
        #expect(file.tensors.allSatisfy { $0.fileOffset % 64 == 0 })
        #expect(Array(file.data(of: file.tensors[0]).bindMemory(to: Float.self)) == S.alphaData)
    }

    @Test func writerRecordsANonDefaultAlignment() throws {
        // Without the key a reader would look for the data on 32-byte boundaries.
        for alignment in [1, 8, 64, 256] {
            var w = S.writer()
            w.alignment = alignment
            let file = try S.parse(w.serialized())
            #expect(file.alignment == alignment)
            #expect(try file.metadata.int("general.alignment") == alignment)
            #expect(Array(file.data(of: file.tensors[0]).bindMemory(to: Float.self)) == S.alphaData)
            #expect(Array(file.data(of: file.tensors[1]).bindMemory(to: Float.self)) == S.betaData)
        }
    }

    @Test func dimensionCounts() {
        var five = S.writer()
        five.addTensor("five", dimensions: [1, 1, 1, 1, 1], floats: [1])
        S.expectFailure(five, "'five' has 5 dimensions")
        var zero = S.writer()
        zero.addTensor("scalar", dimensions: [], floats: [1])
        S.expectFailure(zero, "'scalar' has 0 dimensions")
        var bytes = S.validFile()
        S.put(UInt32.max, at: S.after("tensor.alpha", in: bytes), in: &bytes)
        S.expectFailure(bytes, "'tensor.alpha' has \(UInt32.max) dimensions")
    }

    @Test func zeroAndHugeDimensions() {
        var zero = S.writer()
        zero.addTensor("empty", dimensions: [4, 0], floats: [])
        S.expectFailure(zero, "'empty' has dimension 0")
        var huge = S.validFile()
        S.put(UInt64(1) << 40, at: S.after("tensor.beta", in: huge) + 4, in: &huge)
        S.expectFailure(huge, "'tensor.beta' has dimension \(UInt64(1) << 40)")
    }

    /// Codes that are no ggml type (never assigned, or removed from ggml like Q4_2 = 4).
    @Test(arguments: [UInt32(99), 4, 5, 31, 38, 43, .max])
    func unknownTensorType(_ code: UInt32) {
        var bytes = S.validFile()
        S.put(code, at: S.tensorTypeOffset("tensor.beta", dimensions: 1, in: bytes), in: &bytes)
        S.expectFailure(bytes, "'tensor.beta' has type code \(code), which is no ggml tensor type")
    }

    @Test func tensorPastTheEnd() {
        // Offset beyond the data section.
        var bytes = S.validFile()
        S.put(UInt64(4096), at: S.tensorTypeOffset("tensor.beta", dimensions: 1, in: bytes) + 4, in: &bytes)
        S.expectFailure(bytes, "'tensor.beta'", "past the end of the file")
        // Offset inside the file, size beyond it.
        var big = S.validFile()
        S.put(UInt64(1000), at: S.after("tensor.beta", in: big) + 4, in: &big)
        S.expectFailure(big, "'tensor.beta' data (4000 bytes", "past the end of the file")
        // A file whose tensor infos end, but whose data section never starts.
        let whole = S.validFile()
        let infosEnd = S.tensorTypeOffset("tensor.beta", dimensions: 1, in: whole) + 4 + 8
        #expect(infosEnd % 32 != 0)
        S.expectFailure(Array(whole[..<infosEnd]), "truncated before the tensor data section")
    }

    @Test(arguments: [UInt64.max & ~31, UInt64.max - 63, UInt64(1) << 63, UInt64(Int.max) & ~31])
    func offsetOverflow(_ offset: UInt64) {
        var bytes = S.validFile()
        S.put(offset, at: S.tensorTypeOffset("tensor.beta", dimensions: 1, in: bytes) + 4, in: &bytes)
        S.expectFailure(bytes, "'tensor.beta'", "past the end of the file")
    }

    @Test(arguments: [UInt64(4), 31, 33, .max])
    func misalignedOffset(_ offset: UInt64) {
        var bytes = S.validFile()
        S.put(offset, at: S.tensorTypeOffset("tensor.beta", dimensions: 1, in: bytes) + 4, in: &bytes)
        S.expectFailure(bytes, "'tensor.beta' offset \(offset) is not aligned to 32")
    }

    /// The super-block formats: a tensor whose data stops one row short, a row length that
    /// is not whole 256-element blocks, and a row count whose byte size overflows.
    @Test(arguments: [GGMLType.q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs])
    func superBlockTensorsAreChecked(type: GGMLType) {
        var truncated = S.writer()
        truncated.addTensor("k", dimensions: [512, 2], type: type, data: [UInt8](repeating: 0, count: 2 * type.blockBytes))
        S.expectFailure(truncated, "'k' data (\(4 * type.blockBytes) bytes", "past the end of the file")
        var ragged = S.writer()
        ragged.addTensor("k", dimensions: [384, 1], type: type, data: [UInt8](repeating: 0, count: 2 * type.blockBytes))
        S.expectFailure(ragged, "'k' row length 384 is not a multiple of the \(type.name) block size 256")
        var huge = S.writer()
        huge.addTensor("k", dimensions: [256, Int(Int32.max), Int(Int32.max)], type: type, data: [UInt8](repeating: 0, count: type.blockBytes))
        S.expectFailure(huge, "'k' element count overflows")
    }

    @Test func elementCountOverflow() {
        var w = S.writer()
        let d = Int(Int32.max)
        w.addTensor("huge", dimensions: [d, d, d, d], floats: [1])
        S.expectFailure(w, "'huge' element count overflows")
        var limit = S.writer()
        limit.addTensor("big", dimensions: [1 << 20, 1 << 21], floats: [1])  // 2^41 elements
        S.expectFailure(limit, "'big' element count overflows")
        var blocks = S.writer()
        blocks.addTensor("q", dimensions: [31], type: .q8_0, data: [UInt8](repeating: 0, count: 34))
        S.expectFailure(blocks, "'q' row length 31 is not a multiple of the Q8_0 block size 32")
    }

    /// One truncated tensor per 32-element block format: the data section ends a byte short
    /// of the tensor's blocks; a row that is not whole blocks; a block count whose byte size
    /// would overflow.
    @Test(arguments: [GGMLType.q4_1, .q5_0, .q5_1, .iq4_nl])
    func truncatedBlockTensor(type: GGMLType) {
        let rows = 3, bytes = rows * 2 * type.blockBytes  // (3, 64) elements
        var short = S.writer()
        short.addTensor("w", dimensions: [64, rows], type: type, data: [UInt8](repeating: 0, count: bytes))
        let whole = short.serialized()
        guard let w = try? S.parse(whole).tensor(named: "w") else {
            Issue.record("the whole file does not parse")
            return
        }
        #expect(w.byteCount == bytes)
        S.expectFailure(Array(whole[..<(w.fileOffset + bytes - 1)]), "'w' data (\(bytes) bytes", "past the end of the file")
        var ragged = S.writer()
        ragged.addTensor("r", dimensions: [48, 2], type: type, data: [UInt8](repeating: 0, count: 3 * type.blockBytes))
        S.expectFailure(ragged, "'r' row length 48 is not a multiple of the \(type.name) block size 32")
        var huge = S.writer()
        huge.addTensor("h", dimensions: [1 << 20, 1 << 20], type: type, data: [UInt8](repeating: 0, count: type.blockBytes))
        S.expectFailure(huge, "'h' data (\((1 << 40) / 32 * type.blockBytes) bytes", "past the end of the file")
    }

    @Test func hugeStringLengths() {
        let valueLength = S.after("general.architecture", in: S.validFile()) + 4
        for length in [UInt64(1) << 62, .max, UInt64(GGUFFile.Limits.maxStringBytes) + 1] {
            var bytes = S.validFile()
            S.put(length, at: valueLength, in: &bytes)
            S.expectFailure(bytes, "string of \(length) bytes", "exceeds")
        }
        var past = S.validFile()
        S.put(UInt64(past.count), at: valueLength, in: &past)
        S.expectFailure(past, "truncated", "string of \(past.count) bytes")
        // The first key's own length.
        var key = S.validFile()
        S.put(UInt64.max, at: 24, in: &key)
        S.expectFailure(key, "string of \(UInt64.max) bytes in metadata entry 0 exceeds")
        // A tensor name's length.
        var name = S.validFile()
        S.put(UInt64(1) << 40, at: S.after("tensor.alpha", in: name) - 12 - 8, in: &name)
        S.expectFailure(name, "string of \(UInt64(1) << 40) bytes in tensor info 0")
    }

    @Test func hugeArrayLengthsThrowQuickly() {
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for count in [UInt64(1) << 40, UInt64(1) << 63, .max, 1 << 20] {
                var bytes = S.validFile()
                S.put(count, at: S.after("ints", in: bytes) + 8, in: &bytes)
                S.expectFailure(bytes, "array of \(count) elements", "ints", "larger than the file can hold")
                var inner = S.validFile()
                // nested: type(4) elementType(4) count(8), then the first inner array: type(4) count(8)
                S.put(count, at: S.after("nested", in: inner) + 16 + 4, in: &inner)
                S.expectFailure(inner, "array of \(count) elements", "nested")
            }
        }
        #expect(elapsed < .seconds(1))
    }

    @Test func arraysNestedTooDeep() throws {
        var ok = S.writer()
        ok.add("three", .array([.array([.array([.uint8(7)])])]))
        let file = try S.parse(ok.serialized())
        #expect(file.metadata["three"] == .array([.array([.array([.uint8(7)])])]))
        var deep = S.writer()
        deep.add("four", .array([.array([.array([.array([.uint8(7)])])])]))
        S.expectFailure(deep, "arrays nested deeper than 3", "four")
        // Arrays of arrays nested 100 deep: parsing stops at the limit, without recursing further.
        var w = GGUFWriter()
        w.add("endless", .uint8(0))
        var bytes = w.serialized()
        bytes.removeSubrange(S.after("endless", in: bytes)...)
        withUnsafeBytes(of: UInt32(9).littleEndian) { bytes += $0 }  // value type: array
        for _ in 0..<100 {
            withUnsafeBytes(of: UInt32(9).littleEndian) { bytes += $0 }  // of arrays
            withUnsafeBytes(of: UInt64(1).littleEndian) { bytes += $0 }  // one of them
        }
        S.expectFailure(bytes, "nested deeper")
    }

    @Test(arguments: [UInt8(2), 3, 0x80, 0xFF])
    func boolByte(_ byte: UInt8) {
        var bytes = S.validFile()
        bytes[S.after("flag", in: bytes) + 4] = byte
        S.expectFailure(bytes, "bool value \(byte)", "flag")
    }

    /// Every prefix of a valid file either throws a `ModelFileError` or, when it still holds
    /// every byte the header describes, parses to exactly the original contents.
    @Test(arguments: [true, false])
    func truncatedAtEveryByte(tensors: Bool) throws {
        let whole = S.validFile(tensors: tensors)
        let reference = try S.parse(whole)
        let needed = reference.tensors.map { $0.fileOffset + $0.byteCount }.max() ?? headerEnd(whole)
        var parsed = 0
        for length in 0..<whole.count {
            do {
                let file = try S.parse(Array(whole[..<length]))
                parsed += 1
                #expect(length >= needed, "a \(length)-byte prefix parsed; \(needed) bytes are described")
                #expect(file.metadata.keys == reference.metadata.keys)
                #expect(file.metadata.values == reference.metadata.values)
                #expect(file.tensors == reference.tensors)
                for t in file.tensors { #expect(t.fileOffset + t.byteCount <= length) }
            } catch is ModelFileError {
                #expect(length < needed, "a \(length)-byte prefix failed; only \(needed) bytes are described")
            } catch {
                Issue.record("prefix of \(length) bytes threw \(error), not a ModelFileError")
            }
        }
        #expect(parsed == whole.count - needed)
    }

    /// The end of the metadata of a tensor-less file (where its padding starts).
    private func headerEnd(_ bytes: [UInt8]) -> Int {
        S.after("pi", in: bytes) + 4 + 8
    }
}
