import ArgumentParser

/// Range checks for numeric flags: every size a flag gives is checked before any
/// arithmetic uses it, so no product can overflow, and a value out of range is one error
/// line naming the flag and its range.
enum FlagRange {
    /// Tokens of one sequence: a model's context is at most 2^24.
    static let tokens = 1...(1 << 24)

    /// Throws a `ValidationError` unless `value` lies in `range`.
    static func check(_ value: Int, _ flag: String, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be at least \(range.lowerBound) and at most \(range.upperBound) (got \(value))")
        }
    }
}
