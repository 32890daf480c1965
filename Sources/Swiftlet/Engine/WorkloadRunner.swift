import Foundation

/// A set of requests and when they arrive: the input of a benchmark run.
public struct Workload: Sendable {
    public var prompts: [[Int32]]
    public var parameters: GenerationParameters
    /// Seconds after the start at which each request arrives; nil = as fast as the
    /// concurrency limit allows (closed loop).
    public var arrivalOffsets: [Double]?

    public init(prompts: [[Int32]], parameters: GenerationParameters, arrivalOffsets: [Double]? = nil) {
        self.prompts = prompts
        self.parameters = parameters
        self.arrivalOffsets = arrivalOffsets
    }

    /// `count` random prompts of `length` tokens (BOS first when given), seeded.
    public static func randomPrompts(count: Int, length: Int, vocabularySize: Int, bos: Int32?, seed: UInt64) -> [[Int32]] {
        var rng = SeededGenerator(seed: seed)
        let low = min(3, vocabularySize - 1)
        return (0..<count).map { _ in
            (0..<length).map { i in
                if i == 0, let bos { return bos }
                return Int32(low + Int(rng.next() % UInt64(vocabularySize - low)))
            }
        }
    }

    /// Poisson arrivals at `rate` requests per second, seeded.
    public static func poissonOffsets(count: Int, rate: Double, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        var time = 0.0
        return (0..<count).map { _ in
            let offset = time
            time += -log(1 - rng.nextDouble()) / rate
            return offset
        }
    }
}

/// Drives a workload through an engine and reports what happened.
public enum WorkloadRunner {
    /// Runs every request of `workload`, keeping at most `concurrency` in flight (and
    /// respecting arrival offsets when given).
    public static func run(_ workload: Workload, on engine: Engine, concurrency: Int) async throws -> WorkloadReport {
        let start = MonotonicClock.now()
        let results = try await withThrowingTaskGroup(of: (Int, GenerationResult).self) { group in
            var next = 0
            var inFlight = 0
            var collected = [GenerationResult?](repeating: nil, count: workload.prompts.count)
            func launch(_ index: Int) {
                let delay = workload.arrivalOffsets.map { max(0, $0[index] - (MonotonicClock.now() - start)) } ?? 0
                group.addTask {
                    if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
                    return (index, try await engine.complete(prompt: .tokens(workload.prompts[index]), parameters: workload.parameters))
                }
            }
            while next < workload.prompts.count && inFlight < concurrency {
                launch(next)
                next += 1
                inFlight += 1
            }
            while let (index, result) = try await group.next() {
                collected[index] = result
                if next < workload.prompts.count {
                    launch(next)
                    next += 1
                }
            }
            return collected.compactMap { $0 }
        }
        let wall = MonotonicClock.now() - start
        return WorkloadReport(results: results, wallSeconds: wall, engine: await engine.idleMetrics())
    }
}
