import Foundation
import Swiftlet
import Synchronization

/// An uploaded file (`/v1/files`), as OpenAI describes it.
struct StoredFile: Codable, Sendable {
    var id: String
    var object = "file"
    var bytes: Int
    var created_at: Int
    var filename: String
    /// `batch` (uploads), `batch_output` (results).
    var purpose: String
    var status = "processed"
}

/// A batch (`/v1/batches`), as OpenAI describes it.
struct StoredBatch: Codable, Sendable {
    struct Counts: Codable, Sendable, Equatable {
        var total = 0
        var completed = 0
        var failed = 0
    }
    struct Failure: Codable, Sendable {
        var code: String
        var message: String
        var line: Int?
        var param: String?
    }
    struct Failures: Codable, Sendable {
        var object = "list"
        var data: [Failure]
    }

    var id: String
    var object = "batch"
    var endpoint: String
    var input_file_id: String
    var completion_window: String
    /// `validating`, `in_progress`, `completed`, `failed`, `cancelling`, `cancelled`.
    var status: String
    var output_file_id: String?
    var error_file_id: String?
    var created_at: Int
    var in_progress_at: Int?
    var completed_at: Int?
    var failed_at: Int?
    var cancelling_at: Int?
    var cancelled_at: Int?
    var expires_at: Int?
    var request_counts = Counts()
    var errors: Failures?
    var metadata: [String: String]?

    /// Still to run (after a restart too).
    var isUnfinished: Bool { ["validating", "in_progress", "cancelling"].contains(status) }
}

/// Files and batches on disk under the data directory, so they survive a restart:
/// `files/<id>.json` (metadata) and `files/<id>.jsonl` (content), `batches/<id>.json` and
/// `batches/<id>.results.jsonl` (every finished line of a running batch, in input order).
/// Metadata is replaced atomically (written aside, then renamed). Ids are checked before
/// they name a path: `file-` or `batch_` and lowercase hex.
final class BatchStore: Sendable {
    let directory: URL
    private let lock = Mutex(())

    init(directory: URL) throws {
        self.directory = directory
        for folder in ["files", "batches"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
    }

    /// Whether `id` is one this store could have made (no path can hide in it).
    static func isValid(_ id: String, prefix: String) -> Bool {
        id.hasPrefix(prefix) && id.count == prefix.count + 32
            && id.dropFirst(prefix.count).allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    static func newID(prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    private func url(_ folder: String, _ name: String) -> URL {
        directory.appendingPathComponent(folder).appendingPathComponent(name)
    }

    // MARK: Files

    func createFile(named filename: String, purpose: String, content: Data) throws -> StoredFile {
        let file = StoredFile(id: Self.newID(prefix: "file-"), bytes: content.count, created_at: Int(Date().timeIntervalSince1970),
                              filename: filename, purpose: purpose)
        try content.write(to: url("files", file.id + ".jsonl"), options: .atomic)
        try save(file, to: url("files", file.id + ".json"))
        return file
    }

    func file(_ id: String) -> StoredFile? {
        guard Self.isValid(id, prefix: "file-") else { return nil }
        return load(StoredFile.self, from: url("files", id + ".json"))
    }

    func content(ofFile id: String) -> Data? {
        guard file(id) != nil else { return nil }
        return FileManager.default.contents(atPath: url("files", id + ".jsonl").path)
    }

    // MARK: Batches

    func batch(_ id: String) -> StoredBatch? {
        guard Self.isValid(id, prefix: "batch_") else { return nil }
        return load(StoredBatch.self, from: url("batches", id + ".json"))
    }

    func save(_ batch: StoredBatch) throws {
        try lock.withLock { _ in try save(batch, to: url("batches", batch.id + ".json")) }
    }

    /// Reads, changes and writes a batch as one step (no other update in between); nil
    /// for an unknown id.
    @discardableResult
    func update(_ id: String, _ change: (inout StoredBatch) -> Void) throws -> StoredBatch? {
        try lock.withLock { _ in
            guard var batch = batch(id) else { return nil }
            change(&batch)
            try save(batch, to: url("batches", id + ".json"))
            return batch
        }
    }

    /// Every batch, newest first.
    func batches() -> [StoredBatch] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("batches").path)) ?? []
        return names.filter { $0.hasSuffix(".json") }
            .compactMap { batch(String($0.dropLast(5))) }
            .sorted { ($0.created_at, $0.id) > ($1.created_at, $1.id) }
    }

    /// The finished lines of a batch so far (input order).
    func resultsURL(ofBatch id: String) -> URL { url("batches", id + ".results.jsonl") }

    // MARK: JSON on disk

    private func save(_ value: some Encodable, to destination: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        try data.write(to: destination, options: .atomic)
    }

    private func load<T: Decodable>(_ type: T.Type, from source: URL) -> T? {
        guard let data = FileManager.default.contents(atPath: source.path) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }
}
