import Foundation
import Swiftlet
import Synchronization

/// Runs `/v1/batches` batches in the background at batch priority, one task per batch,
/// through the server's engine: interactive requests are served first and batch lines take
/// the rest of every step.
///
/// Every finished line is appended to the batch's results file before it is counted, so a
/// restart (or a crash) loses no finished line: `resumeUnfinished()` picks each unfinished
/// batch up after its last complete line. A completed batch's results are split into its
/// output file (lines that ran) and error file (lines that could not run).
final class BatchService: Sendable {
    let store: BatchStore
    let engine: Engine
    let chat: ChatPromptBuilder
    let modelName: String
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])

    static let completionWindows: Set<String> = ["24h"]

    init(store: BatchStore, engine: Engine, chat: ChatPromptBuilder, modelName: String) {
        self.store = store
        self.engine = engine
        self.chat = chat
        self.modelName = modelName
    }

    /// Validates a `POST /v1/batches` and starts the batch.
    func create(inputFileID: String, endpoint: String, completionWindow: String, metadata: [String: String]?) throws -> StoredBatch {
        guard let file = store.file(inputFileID) else {
            throw APIError.badRequest("no file with id '\(inputFileID)'", parameter: "input_file_id")
        }
        guard file.purpose == "batch" else {
            throw APIError.badRequest("file '\(inputFileID)' has purpose '\(file.purpose)', not 'batch'", parameter: "input_file_id")
        }
        guard APIEndpoint(rawValue: endpoint) != nil else {
            throw APIError.badRequest("endpoint \(endpoint) is not supported (/v1/completions or /v1/chat/completions)", parameter: "endpoint")
        }
        guard Self.completionWindows.contains(completionWindow) else {
            throw APIError.badRequest("completion_window must be 24h, not \(completionWindow)", parameter: "completion_window")
        }
        let now = Int(Date().timeIntervalSince1970)
        let batch = StoredBatch(id: BatchStore.newID(prefix: "batch_"), endpoint: endpoint, input_file_id: inputFileID,
                                completion_window: completionWindow, status: "validating", created_at: now,
                                expires_at: now + 24 * 3600, metadata: metadata)
        try store.save(batch)
        start(batch.id)
        return batch
    }

    /// `POST /v1/batches/{id}/cancel`: stops an unfinished batch; what finished stays in its
    /// output. A finished batch is returned as it is.
    func cancel(_ id: String) throws -> StoredBatch {
        let updated = try store.update(id) { batch in
            guard batch.isUnfinished else { return }
            batch.status = "cancelling"
            batch.cancelling_at = batch.cancelling_at ?? Int(Date().timeIntervalSince1970)
        }
        guard let batch = updated else { throw APIError.notFound("no batch with id '\(id)'") }
        guard batch.status == "cancelling" else { return batch }
        if let task = tasks.withLock({ $0[id] }) { task.cancel() } else { start(id) }
        return batch
    }

    /// Starts every batch a previous run left unfinished.
    func resumeUnfinished() {
        for batch in store.batches() where batch.isUnfinished { start(batch.id) }
    }

    /// Stops every running batch (they stay unfinished on disk) and waits for them.
    func stop() async {
        let running = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    private func start(_ id: String) {
        tasks.withLock { tasks in
            guard tasks[id] == nil else { return }
            tasks[id] = Task { [self] in
                await run(id)
                _ = self.tasks.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    private func run(_ id: String) async {
        guard var batch = store.batch(id) else { return }
        do {
            if batch.status == "cancelling" {
                try finish(&batch, status: "cancelled")
                return
            }
            guard let data = store.content(ofFile: batch.input_file_id) else {
                return try fail(&batch, "the input file \(batch.input_file_id) is gone")
            }
            let file = BatchFile(data: data, engine: engine, chat: chat, modelName: modelName,
                                 endpoint: APIEndpoint(rawValue: batch.endpoint))
            guard !file.entries.isEmpty else { return try fail(&batch, "the input file has no requests") }

            // Resume after the last complete line of an earlier run.
            let resultsURL = store.resultsURL(ofBatch: id)
            if !FileManager.default.fileExists(atPath: resultsURL.path) {
                FileManager.default.createFile(atPath: resultsURL.path, contents: nil)
            }
            let previous = FileManager.default.contents(atPath: resultsURL.path) ?? Data()
            let point: (entries: Int, bytes: Int)
            do { point = try file.resumePoint(output: previous) } catch let error as APIError {
                return try fail(&batch, "cannot resume: \(error.message)")
            }
            let writer = try FileHandle(forWritingTo: resultsURL)
            defer { try? writer.close() }
            try writer.truncate(atOffset: UInt64(point.bytes))
            try writer.seekToEnd()
            batch.request_counts = Self.counts(of: previous.prefix(point.bytes), total: file.entries.count)
            let resumed = batch.request_counts
            batch = try store.update(id) { current in
                current.request_counts = resumed
                if current.status == "validating" {
                    current.status = "in_progress"
                    current.in_progress_at = Int(Date().timeIntervalSince1970)
                }
            } ?? batch
            if batch.status == "cancelling" { throw CancellationError() }

            let runner = BatchRequestRunner(engine: engine, priority: .batch)
            var counts = batch.request_counts
            _ = try await runner.run(Array(file.jobs.dropFirst(point.entries)), onOutcome: { index, outcome in
                var line = file.outputLine(for: point.entries + index, outcome: outcome)
                line.append(0x0A)
                try writer.write(contentsOf: line)
                if case .failed = outcome { counts.failed += 1 } else { counts.completed += 1 }
                let current = try store.update(id) { $0.request_counts = counts }
                if current?.status == "cancelling" { throw CancellationError() }
            })
            batch = store.batch(id) ?? batch
            try finish(&batch, status: "completed")
        } catch is CancellationError {
            // A cancel request finishes the batch; a server stop leaves it to resume.
            if var current = store.batch(id), current.status == "cancelling" {
                try? finish(&current, status: "cancelled")
            }
        } catch {
            try? fail(&batch, "\(error)")
        }
    }

    /// Ends the batch with `status`: its finished lines become the output file (lines that
    /// ran) and the error file (lines that could not).
    private func finish(_ batch: inout StoredBatch, status: String) throws {
        let results = FileManager.default.contents(atPath: store.resultsURL(ofBatch: batch.id).path) ?? Data()
        var output = Data(), errors = Data()
        for line in results.split(separator: 0x0A) {
            if Self.isError(line) { errors.append(contentsOf: line); errors.append(0x0A) } else {
                output.append(contentsOf: line); output.append(0x0A)
            }
        }
        batch.output_file_id = try store.createFile(named: "\(batch.id)_output.jsonl", purpose: "batch_output", content: output).id
        if !errors.isEmpty {
            batch.error_file_id = try store.createFile(named: "\(batch.id)_error.jsonl", purpose: "batch_output", content: errors).id
        }
        let now = Int(Date().timeIntervalSince1970)
        let (output_file_id, error_file_id) = (batch.output_file_id, batch.error_file_id)
        batch = try store.update(batch.id) { current in
            current.output_file_id = output_file_id
            current.error_file_id = error_file_id
            current.status = status
            if status == "completed" { current.completed_at = now } else { current.cancelled_at = now }
        } ?? batch
    }

    private func fail(_ batch: inout StoredBatch, _ message: String) throws {
        batch = try store.update(batch.id) { current in
            current.status = "failed"
            current.failed_at = Int(Date().timeIntervalSince1970)
            current.errors = .init(data: [.init(code: "invalid_file", message: message)])
        } ?? batch
    }

    /// Whether a results line is a failed one (`"error"` not null).
    static func isError(_ line: Data.SubSequence) -> Bool {
        guard case .object(let fields)? = try? JSONValue.parse(Data(line)) else { return true }
        return fields["error"].map { $0 != .null } ?? false
    }

    /// The counts of the lines `results` holds.
    static func counts(of results: Data, total: Int) -> StoredBatch.Counts {
        var counts = StoredBatch.Counts(total: total)
        for line in results.split(separator: 0x0A) {
            if isError(line) { counts.failed += 1 } else { counts.completed += 1 }
        }
        return counts
    }
}
