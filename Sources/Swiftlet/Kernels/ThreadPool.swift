import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A fixed set of compute threads that run one parallel region at a time, fork/join style.
///
/// The caller thread takes part as thread 0, so a pool of `threadCount` uses `threadCount - 1`
/// workers. Workers spin briefly between regions (a decode step runs ~50 regions back to
/// back, so waking through the kernel each time would cost more than the work) and then
/// sleep on a condition variable. `run` allocates nothing.
public final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in each region, the caller included.
    public let threadCount: Int
    private let shared: SharedState
    /// Per-thread scratch for kernels, `(threadCount, scratchFloats)`, 64-byte aligned.
    private let scratchBase: UnsafeMutablePointer<Float>
    /// Floats of scratch each thread owns (256 KiB).
    public static let scratchFloats = 65_536

    /// Creates a pool of `threadCount` threads (at least 1), the caller included.
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        shared = SharedState()
        scratchBase = UnsafeMutableRawPointer.allocate(byteCount: self.threadCount * Self.scratchFloats * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: self.threadCount * Self.scratchFloats)
        for index in 1..<self.threadCount {
            let shared = self.shared
            let thread = Thread { shared.workerLoop(index: index) }
            thread.name = "swiftlet-compute-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit {
        shared.shutDown()
        scratchBase.deallocate()
    }

    /// Scratch memory of thread `index` (only that thread may use it inside `run`).
    @inline(__always)
    public func scratch(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: scratchBase + index * Self.scratchFloats, count: Self.scratchFloats)
    }

    /// Runs `body(threadIndex)` on every thread of the pool, `threadIndex` in
    /// `0..<threadCount`, and returns when all have finished. Not reentrant.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 {
            body(0)
            return
        }
        shared.run(workerCount: threadCount - 1, body)
    }

    /// Splits `0..<count` into `threadCount` contiguous parts whose bounds are multiples
    /// of `granularity` (except the end) and returns part `index`.
    @inline(__always)
    public func partition(_ count: Int, index: Int, granularity: Int = 1) -> Range<Int> {
        let units = (count + granularity - 1) / granularity
        let lower = min(count, units * index / threadCount * granularity)
        let upper = min(count, units * (index + 1) / threadCount * granularity)
        return lower..<upper
    }
}

/// The state the caller and the workers share; owned by the workers too, so it outlives
/// the pool until every worker has seen the shutdown.
private final class SharedState: @unchecked Sendable {
    let generation = Atomic<Int>(0)
    let pending = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    let condition = NSCondition()
    /// The region being run; written by the caller before `generation` is bumped.
    var body: ((Int) -> Void)?

    /// Spins (atomic loads) before a waiting thread starts yielding its core to others.
    static let yieldAfter = 2_000
    /// Spins a worker makes before it sleeps on the condition: on the order of 100 µs to
    /// a few ms, depending on how busy the machine is.
    static let spinLimit = 20_000

    func run(workerCount: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            pending.store(workerCount, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            wakeSleepers()
            escapable(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                // On a busy machine a worker may have lost its core: let it run.
                if spins > Self.yieldAfter { sched_yield() }
            }
            self.body = nil
        }
    }

    func shutDown() {
        shuttingDown.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
    }

    private func wakeSleepers() {
        // A worker registers as a sleeper before its last look at `generation`, and the
        // caller bumps `generation` before this look at `sleepers`: one of them sees the other.
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
    }

    func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.yieldAfter { continue }
                if spins < Self.spinLimit { sched_yield(); continue }
                condition.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen {
                    condition.wait()
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                condition.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if shuttingDown.load(ordering: .acquiring) { return }
            body?(index)
            pending.subtract(1, ordering: .releasing)
        }
    }
}
