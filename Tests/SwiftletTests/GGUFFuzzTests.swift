import Foundation
import Testing
@testable import Swiftlet

/// Seeded mutation fuzzing of the GGUF reader: every mutant of a small valid file must parse
/// (to something self-consistent) or throw a `ModelFileError`; never crash, hang or balloon.
@Suite("GGUF fuzz")
struct GGUFFuzzTests {
    /// Values that tend to break length, count and offset arithmetic.
    static let interesting64: [UInt64] = [
        0, 1, 2, 3, 4, 5, 7, 8, 12, 13, 31, 32, 33, 63, 64, 255, 256, 4096, 0x7FFF_FFFF, 0x8000_0000,
        0xFFFF_FFFF, 1 << 32, 1 << 40, 1 << 62, (1 << 63) - 1, 1 << 63, .max - 31, .max - 1, .max,
    ]

    /// Mutants per run: about 0.3 s in release on this machine class.
    static let iterations = 20_000

    static func mutate(_ base: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
        var bytes = base
        let operations = Int.random(in: 1...4, using: &g)
        for _ in 0..<operations {
            if bytes.isEmpty { bytes = [UInt8.random(in: 0...255, using: &g)] }
            let at = Int.random(in: 0..<bytes.count, using: &g)
            switch Int.random(in: 0..<9, using: &g) {
            case 0:  // flip one bit
                bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &g)
            case 1:  // overwrite one byte
                bytes[at] = [0, 1, 2, 9, 12, 13, 0x7F, 0x80, 0xFF, UInt8.random(in: 0...255, using: &g)]
                    .randomElement(using: &g)!
            case 2, 3:  // overwrite a 64-bit field (counts, lengths, dims, offsets)
                let value = interesting64.randomElement(using: &g)! &+ UInt64.random(in: 0...1, using: &g)
                let start = at & ~3
                withUnsafeBytes(of: value.littleEndian) { raw in
                    for (i, b) in raw.enumerated() where start + i < bytes.count { bytes[start + i] = b }
                }
            case 4:  // overwrite a 32-bit field (types, dimension counts)
                let value = [UInt32(0), 1, 4, 5, 7, 8, 9, 12, 13, 30, 99, 0xFFFF_FFFF].randomElement(using: &g)!
                let start = at & ~3
                withUnsafeBytes(of: value.littleEndian) { raw in
                    for (i, b) in raw.enumerated() where start + i < bytes.count { bytes[start + i] = b }
                }
            case 5:  // insert random bytes
                let count = Int.random(in: 1...16, using: &g)
                bytes.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }, at: at)
            case 6:  // delete a run
                bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &g)))
            case 7:  // truncate
                bytes.removeSubrange(at...)
            default:  // duplicate a run somewhere else
                let run = Array(bytes[at..<min(bytes.count, at + Int.random(in: 1...24, using: &g))])
                bytes.insert(contentsOf: run, at: Int.random(in: 0...bytes.count, using: &g))
            }
        }
        return bytes
    }

    /// Checks what a successful parse promises: tensors inside the file, on the alignment,
    /// with a byte count matching their shape, and every name findable.
    static func checkConsistent(_ file: GGUFFile, size: Int) {
        #expect(file.metadata.keys.count == file.metadata.values.count)
        #expect(file.alignment > 0 && file.alignment & (file.alignment - 1) == 0)
        for t in file.tensors {
            #expect(t.fileOffset >= file.dataOffset && t.fileOffset % file.alignment == 0)
            #expect(t.fileOffset + t.byteCount <= size)
            #expect(t.byteCount == t.elementCount / t.type.blockSize * t.type.blockBytes)
            #expect(file.tensor(named: t.name) == t)
            #expect(file.data(of: t).count == t.byteCount)
        }
    }

    @Test func randomMutationsParseOrThrow() throws {
        var writer = GGUFSurgery.writer()
        writer.add("tokens", .array([.string("a"), .string("bc"), .string("")]))
        writer.add("neg", .int64(-5))
        writer.add("half", .float32(0.5))
        writer.addTensor("q", dimensions: [32, 2], type: .q8_0, data: [UInt8](repeating: 1, count: 68))
        let bases = [writer.serialized(), GGUFSurgery.validFile(tensors: false)]
        _ = try GGUFSurgery.parse(bases[0])
        var g = SeededGenerator(seed: 0x6767_7566)
        var parsed = 0, rejected = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for iteration in 0..<Self.iterations {
                let mutant = Self.mutate(bases[iteration % bases.count], &g)
                do {
                    let file = try GGUFSurgery.parse(mutant)
                    parsed += 1
                    Self.checkConsistent(file, size: mutant.count)
                } catch is ModelFileError {
                    rejected += 1
                } catch {
                    Issue.record("mutant \(iteration) threw \(error), not a ModelFileError")
                }
            }
        }
        #expect(parsed + rejected == Self.iterations)
        #expect(parsed > 50 && rejected > 1000, "parsed \(parsed), rejected \(rejected): mutations too weak or too strong")
        #expect(elapsed < .seconds(10), "fuzzing took \(elapsed)")
        print("GGUF fuzz: \(Self.iterations) mutants, \(parsed) parsed, \(rejected) rejected in \(elapsed)")
    }

    @Test func randomBytesAfterAValidHeaderStart() {
        // Magic and version right, everything after random: exercises the count and length checks.
        var g = SeededGenerator(seed: 99)
        for _ in 0..<3000 {
            var bytes: [UInt8] = [0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]
            let count = Int.random(in: 0...256, using: &g)
            bytes += (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }
            if count >= 16 {  // keep the counts small often enough to reach the entries
                bytes[8] = UInt8.random(in: 0...2, using: &g)
                for i in 9..<16 { bytes[i] = 0 }
            }
            if count >= 24, Bool.random(using: &g) {
                bytes[16] = UInt8.random(in: 0...3, using: &g)
                for i in 17..<24 { bytes[i] = 0 }
            }
            do {
                let file = try GGUFSurgery.parse(bytes)
                Self.checkConsistent(file, size: bytes.count)
            } catch is ModelFileError {
            } catch {
                Issue.record("threw \(error), not a ModelFileError")
            }
        }
    }

    @Test func hostileHeadersDoNotAllocate() {
        // Maximal counts in a tiny file must be rejected from the bytes left, before any
        // reserve or loop; the whole batch takes well under a second.
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for count in GGUFFuzzTests.interesting64 where count > 64 {
                for field in [8, 16] {
                    var bytes = GGUFSurgery.validFile()
                    GGUFSurgery.put(count, at: field, in: &bytes)
                    #expect(throws: ModelFileError.self) { try GGUFSurgery.parse(bytes) }
                }
                var array = GGUFSurgery.validFile()
                GGUFSurgery.put(count, at: GGUFSurgery.after("ints", in: array) + 8, in: &array)
                #expect(throws: ModelFileError.self) { try GGUFSurgery.parse(array) }
            }
        }
        #expect(elapsed < .seconds(1))
    }
}
