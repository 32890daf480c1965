/// What one entry of a batch asks the engine for: one request per choice (a completions
/// body may hold several prompts and `n` choices each).
public struct BatchJob: Sendable {
    public struct Part: Sendable {
        public var prompt: Prompt
        public var parameters: GenerationParameters

        public init(prompt: Prompt, parameters: GenerationParameters) {
            self.prompt = prompt
            self.parameters = parameters
        }
    }

    public var parts: [Part]

    public init(parts: [Part]) {
        self.parts = parts
    }
}

/// How one batch entry ended: every part's result in part order, or why it could not run.
public enum BatchJobOutcome: Sendable {
    case completed([GenerationResult])
    case failed(APIError)
}

/// Runs an offline batch through one engine at full throughput and hands back one outcome
/// per entry, in input order, as soon as every earlier entry has one.
///
/// Requests are submitted ahead of what the engine runs at once, so its scheduler always has
/// work queued and batches as many sequences per step as it allows; `maxInFlight` bounds how
/// many are queued, because every submitted request holds its sampler's scratch memory
/// (a few vocabulary-sized buffers).
public struct BatchRequestRunner: Sendable {
    /// Progress after each generated token or finished entry.
    public struct Progress: Sendable {
        /// Entries with an outcome (finished requests and failures).
        public var completed = 0
        public var total = 0
        public var promptTokens = 0
        public var generatedTokens = 0
        public var elapsedSeconds = 0.0

        /// Generated tokens per second of wall time so far.
        public var tokensPerSecond: Double { elapsedSeconds > 0 ? Double(generatedTokens) / elapsedSeconds : 0 }
        /// Seconds left at the rate of entries so far; nil before the first one is done.
        public var estimatedSecondsLeft: Double? {
            guard completed > 0, elapsedSeconds > 0 else { return nil }
            return elapsedSeconds / Double(completed) * Double(total - completed)
        }
    }

    /// What a whole batch did.
    public struct Summary: Sendable {
        public var requests = 0
        /// Entries answered with an error.
        public var failures = 0
        public var promptTokens = 0
        public var generatedTokens = 0
        public var elapsedSeconds = 0.0

        /// Generated tokens per second of wall time.
        public var tokensPerSecond: Double { elapsedSeconds > 0 ? Double(generatedTokens) / elapsedSeconds : 0 }
        /// Prompt and generated tokens per second of wall time: what the system processed.
        public var systemTokensPerSecond: Double {
            elapsedSeconds > 0 ? Double(promptTokens + generatedTokens) / elapsedSeconds : 0
        }
    }

    public let engine: Engine
    /// Most requests submitted and not yet finished.
    public var maxInFlight: Int
    /// The priority every request runs at.
    public var priority: RequestPriority

    /// - Parameter maxInFlight: defaults to four times the engine's `maxSequences`.
    public init(engine: Engine, maxInFlight: Int? = nil, priority: RequestPriority = .batch) {
        self.engine = engine
        self.maxInFlight = max(1, maxInFlight ?? 4 * engine.configuration.maxSequences)
        self.priority = priority
    }

    private enum Event: Sendable {
        case token
        case finished(entry: Int, part: Int, result: GenerationResult)
    }

    /// Runs every job of `jobs`; a failure, or a job the engine rejects, becomes a failed
    /// outcome in its place.
    /// - Parameters:
    ///   - onOutcome: called in input order, once per entry, with its index. If it throws,
    ///     the requests still running are cancelled and the error is rethrown.
    ///   - onProgress: called after every generated token and every outcome.
    /// - Throws: what `onOutcome` throws, or `CancellationError` when the calling task is
    ///   cancelled or a request is cancelled from outside (engine shutdown); the requests
    ///   still running are cancelled first.
    public func run(_ jobs: [Result<BatchJob, APIError>],
                    onOutcome: (Int, BatchJobOutcome) throws -> Void,
                    onProgress: (Progress) -> Void = { _ in }) async throws -> Summary {
        let (events, continuation) = AsyncStream<Event>.makeStream()
        defer { continuation.finish() }
        var outcomes = [BatchJobOutcome?](repeating: nil, count: jobs.count)
        var partial: [Int: [GenerationResult?]] = [:]  // entry -> results so far
        var running: [Int: [Int]] = [:]  // entry -> engine request ids
        var inFlight = 0
        var nextToSubmit = 0, nextToWrite = 0
        var progress = Progress(total: jobs.count)
        var summary = Summary(requests: jobs.count)
        let start = MonotonicClock.now()

        func submitMore() {
            while inFlight < maxInFlight && nextToSubmit < jobs.count {
                let entry = nextToSubmit
                nextToSubmit += 1
                switch jobs[entry] {
                case .failure(let error):
                    outcomes[entry] = .failed(error)
                case .success(let job) where job.parts.isEmpty:
                    outcomes[entry] = .completed([])
                case .success(let job):
                    var ids: [Int] = []
                    do {
                        for (index, part) in job.parts.enumerated() {
                            var parameters = part.parameters
                            parameters.priority = priority
                            ids.append(try engine.submit(prompt: part.prompt, parameters: parameters) { event in
                                switch event {
                                case .token: continuation.yield(.token)
                                case .finished(let result): continuation.yield(.finished(entry: entry, part: index, result: result))
                                case .text: break
                                }
                            })
                        }
                        running[entry] = ids
                        partial[entry] = Array(repeating: nil, count: job.parts.count)
                        inFlight += ids.count
                    } catch {
                        // Parts already submitted finish cancelled; their events are ignored.
                        for id in ids { engine.cancel(id) }
                        outcomes[entry] = .failed(Self.apiError(for: error))
                    }
                }
            }
        }

        func writeReady() throws {
            while nextToWrite < outcomes.count, let outcome = outcomes[nextToWrite] {
                outcomes[nextToWrite] = nil
                switch outcome {
                case .completed(let results): progress.promptTokens += results.reduce(0) { $0 + $1.promptTokens.count }
                case .failed: summary.failures += 1
                }
                progress.completed += 1
                try onOutcome(nextToWrite, outcome)
                nextToWrite += 1
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
                case .finished(let entry, let part, let result):
                    guard running[entry] != nil else { continue }  // a part of a failed submission
                    // Cancelled from outside (the engine is shutting down): not a result to
                    // record. What finished before is kept; a rerun does the rest.
                    if result.finishReason == .cancelled { throw CancellationError() }
                    inFlight -= 1
                    partial[entry]![part] = result
                    if partial[entry]!.allSatisfy({ $0 != nil }) {
                        outcomes[entry] = .completed(partial[entry]!.map { $0! })
                        running[entry] = nil
                        partial[entry] = nil
                    }
                    submitMore()
                    try writeReady()
                }
                progress.elapsedSeconds = MonotonicClock.now() - start
                onProgress(progress)
            }
            try Task.checkCancellation()
        } catch {
            for ids in running.values { ids.forEach(engine.cancel) }
            throw error
        }
        summary.promptTokens = progress.promptTokens
        summary.generatedTokens = progress.generatedTokens
        summary.elapsedSeconds = MonotonicClock.now() - start
        progress.elapsedSeconds = summary.elapsedSeconds
        onProgress(progress)
        return summary
    }

    /// Runs flat batch requests (`BatchRequest`), one record per entry in input order.
    public func run(_ entries: [Result<BatchRequest, BatchRequestError>],
                    onRecord: (BatchRequestRecord) throws -> Void,
                    onProgress: (Progress) -> Void = { _ in }) async throws -> Summary {
        let jobs = entries.map { entry in
            entry.map { BatchJob(parts: [.init(prompt: $0.prompt, parameters: $0.parameters)]) }
                .mapError { APIError.badRequest($0.message) }
        }
        return try await run(jobs, onOutcome: { index, outcome in
            let id: BatchRequestID
            switch entries[index] {
            case .success(let request): id = request.id
            case .failure(let error): id = error.id
            }
            switch outcome {
            case .completed(let results): try onRecord(BatchRequestRecord(id: id, outcome: .completed(results[0])))
            case .failed(let error): try onRecord(BatchRequestRecord(id: id, outcome: .failed(message: error.message)))
            }
        }, onProgress: onProgress)
    }

    /// A submission error as a 400 (the engine refused the request) or a 503 (it stopped).
    static func apiError(for error: Error) -> APIError {
        switch error {
        case GenerationError.invalidRequest(let message): return .badRequest(message)
        case GenerationError.engineStopped: return APIError(statusCode: 503, message: "the engine has stopped", type: "server_error")
        case let error as APIError: return error
        default: return APIError(statusCode: 500, message: "\(error)", type: "server_error")
        }
    }
}
