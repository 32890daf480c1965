/// Runs an offline batch through one engine at full throughput and hands back one record per
/// entry, in input order, as soon as every earlier entry has one.
///
/// Requests are submitted ahead of what the engine runs at once, so its scheduler always has
/// work queued and batches as many sequences per step as it allows; `maxInFlight` bounds how
/// many are queued, because every submitted request holds its sampler's scratch memory
/// (a few vocabulary-sized buffers).
public struct BatchRequestRunner: Sendable {
    /// Progress after each generated token or finished request.
    public struct Progress: Sendable {
        /// Entries with a record (finished requests and failures).
        public var completed = 0
        public var total = 0
        public var generatedTokens = 0
        public var elapsedSeconds = 0.0

        /// Generated tokens per second of wall time so far.
        public var tokensPerSecond: Double { elapsedSeconds > 0 ? Double(generatedTokens) / elapsedSeconds : 0 }
    }

    /// What a whole batch did.
    public struct Summary: Sendable {
        public var requests = 0
        /// Entries answered with an error record.
        public var failures = 0
        public var promptTokens = 0
        public var generatedTokens = 0
        public var elapsedSeconds = 0.0

        /// Generated tokens per second of wall time.
        public var tokensPerSecond: Double { elapsedSeconds > 0 ? Double(generatedTokens) / elapsedSeconds : 0 }
    }

    public let engine: Engine
    /// Most requests submitted and not yet finished.
    public var maxInFlight: Int

    /// - Parameter maxInFlight: defaults to four times the engine's `maxSequences`.
    public init(engine: Engine, maxInFlight: Int? = nil) {
        self.engine = engine
        self.maxInFlight = max(1, maxInFlight ?? 4 * engine.configuration.maxSequences)
    }

    private enum Event: Sendable {
        case token
        case finished(index: Int, result: GenerationResult)
    }

    /// Runs every request of `entries`; a parse failure, or a request the engine rejects,
    /// becomes an error record in its place.
    /// - Parameters:
    ///   - onRecord: called in input order, once per entry. If it throws, the requests still
    ///     running are cancelled and the error is rethrown.
    ///   - onProgress: called after every generated token and every record.
    public func run(_ entries: [Result<BatchRequest, BatchRequestError>],
                    onRecord: (BatchRequestRecord) throws -> Void,
                    onProgress: (Progress) -> Void = { _ in }) async throws -> Summary {
        let (events, continuation) = AsyncStream<Event>.makeStream()
        defer { continuation.finish() }
        var records = [BatchRequestRecord?](repeating: nil, count: entries.count)
        var running: [Int: Int] = [:]  // entry index -> engine request id
        var nextToSubmit = 0, nextToWrite = 0
        var progress = Progress(total: entries.count)
        var summary = Summary(requests: entries.count)
        let start = MonotonicClock.now()

        func submitMore() {
            while running.count < maxInFlight && nextToSubmit < entries.count {
                let index = nextToSubmit
                nextToSubmit += 1
                switch entries[index] {
                case .failure(let error):
                    records[index] = BatchRequestRecord(id: error.id, outcome: .failed(message: error.message))
                case .success(let request):
                    do {
                        running[index] = try engine.submit(prompt: request.prompt, parameters: request.parameters) { event in
                            switch event {
                            case .token: continuation.yield(.token)
                            case .finished(let result): continuation.yield(.finished(index: index, result: result))
                            case .text: break
                            }
                        }
                    } catch {
                        records[index] = BatchRequestRecord(id: request.id, outcome: .failed(message: Self.message(for: error)))
                    }
                }
            }
        }

        func writeReady() throws {
            while nextToWrite < records.count, let record = records[nextToWrite] {
                records[nextToWrite] = nil
                nextToWrite += 1
                if let result = record.result {
                    summary.promptTokens += result.promptTokens.count
                } else {
                    summary.failures += 1
                }
                progress.completed += 1
                try onRecord(record)
            }
        }

        do {
            submitMore()
            try writeReady()
            var iterator = events.makeAsyncIterator()
            while !running.isEmpty, let event = await iterator.next() {
                switch event {
                case .token:
                    progress.generatedTokens += 1
                case .finished(let index, let result):
                    running[index] = nil
                    guard case .success(let request) = entries[index] else { continue }
                    records[index] = BatchRequestRecord(id: request.id, outcome: .completed(result))
                    submitMore()
                    try writeReady()
                }
                progress.elapsedSeconds = MonotonicClock.now() - start
                onProgress(progress)
            }
        } catch {
            for id in running.values { engine.cancel(id) }
            throw error
        }
        summary.generatedTokens = progress.generatedTokens
        summary.elapsedSeconds = MonotonicClock.now() - start
        progress.elapsedSeconds = summary.elapsedSeconds
        onProgress(progress)
        return summary
    }

    /// The message of a submission error, without the "invalid request" prefix.
    private static func message(for error: Error) -> String {
        if case GenerationError.invalidRequest(let message) = error { return message }
        return "\(error)"
    }
}
