import Foundation
import Testing
@testable import Swiftlet

/// Swiftlet's dequantization of rows written by llama.cpp's `llama-quantize` equals the
/// `gguf` package's `gguf.quants.dequantize` bit for bit. The fixtures (raw blocks and the
/// reference floats, listed in manifest.json) are made by Tests/Fixtures/quants/make_reference.py.
@Suite("Dequantization fixtures")
struct DequantizationFixtureTests {
    struct Manifest: Decodable {
        struct Fixture: Decodable {
            let tensor_type: String, tensor: String, rows: Int, columns: Int, blocks: String, floats: String
        }
        let fixtures: [Fixture]
    }

    static let directory = PackageFiles.path("Tests/Fixtures/quants")

    static func manifest() throws -> Manifest {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    /// Every type this suite must cover has fixtures (a type missing from the manifest fails).
    @Test func everyBlock32TypeHasFixtures() throws {
        let types = Set(try Self.manifest().fixtures.map(\.tensor_type))
        for type in Block32KernelTests.types { #expect(types.contains(type.name), "no fixture for \(type.name)") }
    }

    @Test func dequantizationEqualsGGUFPackageBitForBit() throws {
        for fixture in try Self.manifest().fixtures {
            guard let type = GGMLType(name: fixture.tensor_type), let format = WeightFormat(type) else {
                Issue.record("\(fixture.tensor_type): the kernels do not read this type")
                continue
            }
            let blocks = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + fixture.blocks)))
            let reference = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + fixture.floats)))
            let rowBytes = format.rowBytes(columns: fixture.columns)
            #expect(blocks.count == fixture.rows * rowBytes && reference.count == fixture.rows * fixture.columns * 4)
            var values = [Float](repeating: .nan, count: fixture.rows * fixture.columns)  // (rows, columns)
            blocks.withUnsafeBytes { b in
                values.withUnsafeMutableBufferPointer { v in
                    for r in 0..<fixture.rows {
                        format.dequantizeRow(b.baseAddress! + r * rowBytes, into: v.baseAddress! + r * fixture.columns, count: fixture.columns)
                    }
                }
            }
            var mismatches = 0
            reference.withUnsafeBytes { r in
                for i in 0..<values.count where values[i].bitPattern != UInt32(littleEndian: r.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) {
                    mismatches += 1
                }
            }
            #expect(mismatches == 0, "\(fixture.tensor_type) \(fixture.tensor): \(mismatches) of \(values.count) values differ")
            #expect(values.contains { $0 != 0 }, "\(fixture.tensor_type) \(fixture.tensor): all zero")
        }
    }
}
