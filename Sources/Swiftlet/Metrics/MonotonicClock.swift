import Foundation

/// Seconds on a monotonic clock (arbitrary origin); the time base of all metrics.
public enum MonotonicClock {
    @inline(__always)
    public static func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }
}
