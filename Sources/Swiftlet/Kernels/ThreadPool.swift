import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A fixed set of compute threads that run one parallel region at a time, fork/join style.
///
/// A region is split into parts. Each thread owns a contiguous home range of them (thread t
/// the t-th of `threadCount` equal ranges, so on a quiet machine every thread streams the
/// same rows of each weight matrix, step after step) and, when its own are done, takes the
/// parts other threads have not started yet. A thread that lost its core to another process
/// therefore delays the region by at most the part it is in, not by its whole share: on two
/// busy cores a static split made every one of a decode step's ~50 regions wait for a
/// descheduled worker. Which thread computes a part never changes a result: the kernels sum
/// each output in one fixed order.
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
    /// Parts per thread that `parts(_:granularity:)` aims for: enough for the others to
    /// absorb a stalled thread's share, few enough that each part is a long run of rows.
    public static let partsPerThread = 4

    /// Creates a pool of `threadCount` threads (at least 1), the caller included.
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        shared = SharedState(threadCount: self.threadCount)
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

    /// Runs `body(part, thread)` once for every `part` in `0..<parts`, spread over the pool's
    /// threads (`thread` in `0..<threadCount` says whose scratch to use; a thread runs its
    /// parts one after another), and returns when all parts have finished. Not reentrant.
    public func run(parts: Int, _ body: (_ part: Int, _ thread: Int) -> Void) {
        guard parts > 0 else { return }
        if threadCount == 1 || parts == 1 {
            for part in 0..<parts { body(part, 0) }
            return
        }
        // Claim words hold part numbers in 20 bits: a larger region runs as several.
        let limit = SharedState.maxParts
        if parts <= limit {
            shared.run(parts: parts, body)
        } else {
            for base in stride(from: 0, to: parts, by: limit) {
                shared.run(parts: min(limit, parts - base)) { part, thread in body(base + part, thread) }
            }
        }
    }

    /// How many parts a region over `count` items should have when each part's bounds must
    /// be multiples of `granularity`: `perThread` (by default `partsPerThread`) per thread,
    /// fewer for small counts.
    @inline(__always)
    public func parts(_ count: Int, granularity: Int = 1, perThread: Int = ThreadPool.partsPerThread) -> Int {
        let units = (count + granularity - 1) / granularity
        return max(1, min(units, threadCount * max(1, perThread)))
    }

    /// Splits `0..<count` into `parts` contiguous ranges whose bounds are multiples of
    /// `granularity` (except the end) and returns range `part`.
    @inline(__always)
    public func partition(_ count: Int, part: Int, of parts: Int, granularity: Int = 1) -> Range<Int> {
        let units = (count + granularity - 1) / granularity
        let lower = min(count, units * part / parts * granularity)
        let upper = min(count, units * (part + 1) / parts * granularity)
        return lower..<upper
    }
}

/// The state the caller and the workers share; owned by the workers too, so it outlives
/// the pool until every worker has seen the shutdown.
private final class SharedState: @unchecked Sendable {
    let threadCount: Int
    /// The region's number; a region is announced by bumping it.
    let generation = Atomic<Int>(0)
    /// Parts of the current region not finished yet.
    let remaining = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    let condition = NSCondition()
    /// Per thread, the next unclaimed part of its home range and the range's end, tagged
    /// with the region: `(generation mod 2^23) << 40 | end << 20 | part`, one cache line each
    /// (`claimStride` words apart). A claim is a compare-and-swap of the whole word, so a
    /// thread still looking at an older region never takes a part of the current one, and
    /// the end it checks is always the one of the region it claims in.
    private let claims: UnsafeMutablePointer<Atomic<Int>>
    private static let claimStride = 8
    /// Most parts of one region (20 bits of a claim word).
    static let maxParts = (1 << 20) - 1
    /// The region being run; written by the caller before `generation` is bumped.
    var body: ((Int, Int) -> Void)?

    /// Spins (atomic loads) before a waiting thread starts yielding its core to others.
    static let yieldAfter = 2_000
    /// Spins a worker makes before it sleeps on the condition: on the order of 100 µs to
    /// a few ms, depending on how busy the machine is.
    static let spinLimit = 20_000

    init(threadCount: Int) {
        self.threadCount = threadCount
        claims = .allocate(capacity: threadCount * Self.claimStride)
        for index in 0..<threadCount * Self.claimStride { (claims + index).initialize(to: Atomic(0)) }
    }

    deinit {
        claims.deinitialize(count: threadCount * Self.claimStride)
        claims.deallocate()
    }

    @inline(__always)
    private func claim(_ owner: Int) -> UnsafeMutablePointer<Atomic<Int>> { claims + owner * Self.claimStride }

    func run(parts: Int, _ body: (Int, Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            let region = generation.load(ordering: .relaxed) &+ 1
            for owner in 0..<threadCount {
                let (start, end) = (parts * owner / threadCount, parts * (owner + 1) / threadCount)
                claim(owner).pointee.store(Self.tag(region) | end << 20 | start, ordering: .relaxed)
            }
            remaining.store(parts, ordering: .relaxed)
            generation.store(region, ordering: .sequentiallyConsistent)
            wakeSleepers()
            work(thread: 0, region: region)
            var spins = 0
            while remaining.load(ordering: .acquiring) > 0 {
                spins += 1
                // A worker is inside a part and may have lost its core: let it run.
                if spins > Self.yieldAfter { sched_yield() }
            }
            self.body = nil
        }
    }

    /// Runs parts of `region` on `thread`: its home range first, then what is left of the
    /// other threads' ranges, in thread order after its own; then counts them as finished.
    private func work(thread: Int, region: Int) {
        let count = runParts(thread: thread, region: region)
        if count > 0 { remaining.subtract(count, ordering: .releasing) }
    }

    /// Runs the parts and returns how many. Not inlined: every copy of `body` it takes is
    /// released when it returns, before `work` reports the parts finished (the caller's
    /// `withoutActuallyEscaping` checks that no copy outlives the region).
    @inline(never)
    private func runParts(thread: Int, region: Int) -> Int {
        // One copy of the body for all of this thread's parts (each copy is a retain and a
        // release of the closure's context, a cache line every thread writes), taken only
        // once a part is claimed: until the claimed parts are reported finished the caller
        // cannot end the region, so the copy never outlives it.
        var count = 0
        var copy: ((Int, Int) -> Void)?
        for offset in 0..<threadCount {
            let owner = (thread + offset) % threadCount
            while let part = take(from: owner, region: region) {
                if copy == nil { copy = body }
                copy?(part, thread)
                count += 1
            }
        }
        return count
    }

    /// The region bits of a claim word.
    @inline(__always)
    private static func tag(_ region: Int) -> Int { (region & 0x7F_FFFF) << 40 }

    /// Claims the next part of `owner`'s home range in `region`, or nil when it is empty or
    /// the region is over.
    @inline(__always)
    private func take(from owner: Int, region: Int) -> Int? {
        let tag = Self.tag(region)
        var word = claim(owner).pointee.load(ordering: .acquiring)
        while true {
            guard word & ~((1 << 40) - 1) == tag else { return nil }
            let part = word & Self.maxParts, end = (word >> 20) & Self.maxParts
            guard part < end else { return nil }
            let (exchanged, original) = claim(owner).pointee.compareExchange(expected: word, desired: word + 1,
                                                                            ordering: .acquiringAndReleasing)
            if exchanged { return part }
            word = original
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
            work(thread: index, region: seen)
        }
    }
}
