import Synchronization

/// Counts requests in the engine (running or waiting) and refuses new ones once
/// `limit` are in: the server's overload control.
final class Admission: Sendable {
    let limit: Int
    private let inFlight = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Takes `count` slots, or none when they do not all fit.
    func tryAcquire(_ count: Int) -> Bool {
        inFlight.withLock { value in
            guard value + count <= limit else { return false }
            value += count
            return true
        }
    }

    func release(_ count: Int = 1) {
        inFlight.withLock { $0 -= count }
    }

    var current: Int { inFlight.withLock { $0 } }
}
