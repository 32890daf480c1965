import Foundation
import Testing
@testable import Swiftlet

/// Issue 15, case 7: metadata arrays are stored compactly, and a metadata section cannot
/// make the reader hold more memory than a bounded multiple of the file.
@Suite("Hostile input: metadata")
struct HostileMetadataTests {
    static func fileWithByteArray(_ count: Int) -> [UInt8] {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("blob", .array(GGUFArray(storage: .uint8([UInt8](repeating: 7, count: count)))))
        return writer.serialized()
    }

    @Test func largeByteArrayIsStoredAsBytes() throws {
        let count = 4 << 20
        let file = try GGUFFile(file: MappedFile(bytes: Self.fileWithByteArray(count)))
        let array = try #require(file.metadata["blob"]?.arrayElements)
        #expect(array.count == count)
        #expect(array.uint8Elements?.count == count)
        #expect(array[count - 1] == .uint8(7))
        #expect(array.elementTypeCode == 0)
        // The typed accessors keep working.
        #expect(try file.metadata.intArray("blob")?.count == count)
    }

    @Test func everyArrayTypeRoundTripsTyped() throws {
        let arrays: [(String, GGUFArray)] = [
            ("u8", GGUFArray(storage: .uint8([1, 255]))), ("i8", GGUFArray(storage: .int8([-1, 2]))),
            ("u16", GGUFArray(storage: .uint16([65535]))), ("i16", GGUFArray(storage: .int16([-300]))),
            ("u32", GGUFArray(storage: .uint32([1 << 31]))), ("i32", GGUFArray(storage: .int32([-5, 6]))),
            ("f32", GGUFArray(storage: .float32([1.5, -0.25]))), ("bool", GGUFArray(storage: .bool([true, false]))),
            ("str", GGUFArray(storage: .string(["a", "", "€€€€€€€€€€€€€€€€€€"]))),
            ("u64", GGUFArray(storage: .uint64([UInt64.max]))), ("i64", GGUFArray(storage: .int64([Int64.min]))),
            ("f64", GGUFArray(storage: .float64([3.25]))),
            ("nested", GGUFArray(storage: .array([GGUFArray(storage: .uint8([1])), GGUFArray(storage: .uint8([]))]))),
        ]
        var writer = GGUFWriter()
        for (key, array) in arrays { writer.add(key, .array(array)) }
        let file = try GGUFFile(file: MappedFile(bytes: writer.serialized()))
        for (key, array) in arrays {
            let read = try #require(file.metadata[key]?.arrayElements, "\(key)")
            #expect(read.storage == array.storage, "\(key)")
        }
        // Arrays built from values equal the typed ones they read back as.
        #expect(file.metadata["i32"] == .array([.int32(-5), .int32(6)]))
        #expect(file.metadata["nested"] == .array([.array([.uint8(1)]), .array([])]))
    }

    @Test func metadataBeyondTheBudgetIsRefused() throws {
        let bytes = Self.fileWithByteArray(100_000)
        #expect(throws: ModelFileError.self) { try GGUFFile(file: MappedFile(bytes: bytes), maxMetadataBytes: 50_000) }
        do {
            _ = try GGUFFile(file: MappedFile(bytes: bytes), maxMetadataBytes: 50_000)
        } catch {
            #expect("\(error)".contains("more than 50000 bytes of memory"), "\(error)")
        }
        // The default budget follows the file size: the same file parses.
        _ = try GGUFFile(file: MappedFile(bytes: bytes))
    }

    @Test func arrayCountsLargerThanTheFileAreRefused() throws {
        var bytes = Self.fileWithByteArray(16)
        // The count field follows the key and the array's element type.
        let count = GGUFSurgery.after("blob", in: bytes) + 4 + 4
        for claimed: UInt64 in [UInt64(bytes.count), 1 << 40, UInt64.max, UInt64.max / 8 + 1] {
            GGUFSurgery.put(claimed, at: count, in: &bytes)
            GGUFSurgery.expectFailure(bytes, "larger than the file can hold")
        }
        // A nested array whose inner count lies, and one whose element type makes the count overflow.
        var writer = GGUFWriter()
        writer.add("outer", .array(GGUFArray(storage: .array([GGUFArray(storage: .uint64([1, 2]))]))))
        var nested = writer.serialized()
        let inner = GGUFSurgery.after("outer", in: nested) + 4 + 4 + 8 + 4
        GGUFSurgery.put(UInt64.max / 8 + 2, at: inner, in: &nested)
        GGUFSurgery.expectFailure(nested, "larger than the file can hold")
    }

    @Test func inspectHandlesAModelWithALargeByteArray() throws {
        let folder = try HostileInput.folder("metadata")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try HostileInput.rewriting(TestModels.tiny(), replacing: [
            ("general.blob", .array(GGUFArray(storage: .uint8([UInt8](repeating: 1, count: 8 << 20))))),
        ])
        let path = HostileInput.write(model, "blob.gguf", in: folder)
        let started = Date()
        let run = try runSwiftlet(["inspect", "--model", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("vocabulary: 300 tokens"))
        #expect(Date().timeIntervalSince(started) < 30)
    }
}
