import Foundation
import Testing
@testable import Swiftlet

/// Tensors of files written by llama.cpp's `llama-quantize` (Tests/Fixtures/quants/<type>.gguf,
/// made by make_reference_k.py): Swiftlet's dequantization equals the `gguf` Python
/// package's `gguf.quants.dequantize`, bit for bit.
@Suite("K-quant fixtures")
struct KQuantFixtureTests {
    static let directory = SharedFixtures.packageRoot.appendingPathComponent("Tests/Fixtures/quants")

    @Test(arguments: [GGMLType.q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs])
    func dequantizationMatchesGGUFPackage(type: GGMLType) throws {
        let path = Self.directory.appendingPathComponent("\(type.name.lowercased()).gguf").path
        let file = try GGUFFile(path: path)
        let stored = file.tensors.filter { !$0.name.hasSuffix(".ref") }
        #expect(!stored.isEmpty, "\(path) holds no tensors")
        let format = try #require(WeightFormat(type))
        for tensor in stored {
            #expect(tensor.type == type, "\(tensor.name) is \(tensor.type.name)")
            let reference = try #require(file.tensor(named: tensor.name + ".ref"))
            #expect(reference.type == .f32 && reference.dimensions == tensor.dimensions)
            let columns = tensor.dimensions[0], rows = tensor.elementCount / columns
            var got = [Float](repeating: .nan, count: rows * columns)
            let data = file.data(of: tensor)
            for r in 0..<rows {
                got.withUnsafeMutableBufferPointer { out in
                    format.dequantizeRow(data.baseAddress! + r * format.rowBytes(columns: columns), into: out.baseAddress! + r * columns,
                                         count: columns)
                }
            }
            let expected = Array(file.data(of: reference).bindMemory(to: Float.self))
            #expect(got.count == expected.count)
            let mismatch = got.indices.first { got[$0].bitPattern != expected[$0].bitPattern }
            #expect(mismatch == nil, "\(tensor.name): first difference at element \(mismatch ?? -1)")
        }
    }
}
