import Swiftlet
import Synchronization

/// An event of one choice.
struct ChoiceEvent: Sendable {
    var index: Int
    var event: GenerationEvent
}

/// The engine requests of one HTTP request: submitted together (so that a bad prompt fails
/// the whole request before any response is sent), their events merged into one stream,
/// cancelled together when the client goes away.
final class Submission: Sendable {
    let events: AsyncStream<ChoiceEvent>
    let count: Int
    private let engine: Engine
    private let ids = Mutex<[Int]>([])

    /// Submits every job.
    /// - Parameter onFinished: called on the engine thread with each choice's result.
    /// - Throws: `SubmissionError` wrapping the engine's error; requests already submitted are
    ///   cancelled (and still report `onFinished`).
    init(engine: Engine, jobs: [ChoiceJob], onFinished: @escaping @Sendable (GenerationResult) -> Void) throws {
        self.engine = engine
        count = jobs.count
        let (events, continuation) = AsyncStream<ChoiceEvent>.makeStream()
        self.events = events
        let remaining = Countdown(jobs.count)
        for job in jobs {
            do {
                let id = try engine.submit(prompt: .tokens(job.promptTokens), parameters: job.parameters) { event in
                    continuation.yield(ChoiceEvent(index: job.index, event: event))
                    if case .finished(let result) = event {
                        onFinished(result)
                        if remaining.decrement() == 0 { continuation.finish() }
                    }
                }
                ids.withLock { $0.append(id) }
            } catch {
                let submitted = ids.withLock { $0.count }
                cancel()
                if submitted == 0 { continuation.finish() }
                throw SubmissionError(submitted: submitted, underlying: error)
            }
        }
    }

    /// A response dropped before it streamed (its connection died first) stops its requests.
    deinit {
        cancel()
    }

    /// Cancels every request; each still ends with a `.finished` event (reason cancelled).
    func cancel() {
        for id in ids.withLock({ $0 }) { engine.cancel(id) }
    }

    /// Waits for every choice's result, in `index` order. Cancelling the calling task
    /// cancels the requests.
    func results() async -> [Int: GenerationResult] {
        await withTaskCancellationHandler {
            var results: [Int: GenerationResult] = [:]
            for await item in events {
                if case .finished(let result) = item.event { results[item.index] = result }
            }
            return results
        } onCancel: {
            cancel()
        }
    }
}

/// A job the engine refused; `submitted` jobs before it were cancelled.
struct SubmissionError: Error {
    var submitted: Int
    var underlying: any Error
}

/// A shared count that reaches zero once.
private final class Countdown: Sendable {
    private let count: Mutex<Int>
    init(_ count: Int) { self.count = Mutex(count) }
    /// Subtracts one and returns what is left.
    func decrement() -> Int { count.withLock { $0 -= 1; return $0 } }
}
