import Foundation
import Testing
@testable import Swiftlet

/// Locates `../shared/fixtures` (reference material made outside the project) next to the
/// package root; tests that need it are disabled with a message where it is absent.
enum SharedFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let directory = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    static var available: Bool { FileManager.default.fileExists(atPath: directory.appendingPathComponent("models").path) }
    static let skipMessage: Comment = "../shared/fixtures is absent (a user's clone has none); reference-model tests skipped"

    static func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }

    /// A model's `*.expected.json`: prompt ids, greedy ids and the first steps' float64 logits.
    struct Expected: Decodable {
        let prompt_ids: [Int32]
        let greedy_ids: [Int32]
        let logits: [[Double]]
    }

    static func expected(_ name: String) throws -> Expected {
        let data = try Data(contentsOf: directory.appendingPathComponent("models/\(name).expected.json"))
        return try JSONDecoder().decode(Expected.self, from: data)
    }
}

/// Path of a file in the package (Models/, test resources).
enum PackageFiles {
    static func path(_ relative: String) -> String { SharedFixtures.packageRoot.appendingPathComponent(relative).path }
}
