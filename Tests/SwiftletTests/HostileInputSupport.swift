import Foundation
@testable import Swiftlet

/// Helpers of the hostile-input tests (issue 15): model files with chosen metadata, and a
/// scratch folder for files the command-line tests run on.
enum HostileInput {
    /// `model` (GGUF bytes) rewritten with `replacements` in its metadata: a key already
    /// present takes the new value in place, a new key is appended. Tensors are kept.
    static func rewriting(_ model: [UInt8], replacing replacements: [(String, GGUFValue)]) throws -> [UInt8] {
        let file = try GGUFFile(file: MappedFile(bytes: model))
        var pending = replacements
        var writer = GGUFWriter()
        for key in file.metadata.keys {
            if let index = pending.firstIndex(where: { $0.0 == key }) {
                writer.add(key, pending.remove(at: index).1)
            } else {
                writer.add(key, file.metadata[key]!)
            }
        }
        for (key, value) in pending { writer.add(key, value) }
        for tensor in file.tensors {
            writer.addTensor(tensor.name, dimensions: tensor.dimensions, type: tensor.type, data: Array(file.data(of: tensor)))
        }
        return writer.serialized()
    }

    /// A fresh scratch folder; remove it with `FileManager.removeItem`.
    static func folder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `bytes` to `name` in `folder` and returns the path.
    static func write(_ bytes: [UInt8], _ name: String, in folder: URL) -> String {
        let path = folder.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}
