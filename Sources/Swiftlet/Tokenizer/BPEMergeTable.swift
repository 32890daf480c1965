/// Ranked BPE merges keyed by the pair of symbol numbers they join: `(left, right)` →
/// (rank, number of the joined symbol). Open addressing over flat arrays; the first merge
/// listed for a pair wins, as in llama.cpp.
struct BPEMergeTable: Sendable {
    struct Merge: Sendable, Equatable {
        /// Position in `tokenizer.ggml.merges`: lower merges first.
        var rank: Int32
        /// Symbol number of the joined string.
        var result: Int32
    }

    private var keys: [UInt64]
    private var values: [Merge]
    private var mask: Int
    private(set) var count = 0

    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [Merge](repeating: Merge(rank: 0, result: 0), count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(for key: UInt64, mask: Int) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        return Int(truncatingIfNeeded: h) & mask
    }

    /// Adds a merge unless the pair already has one. Returns whether it was added.
    @discardableResult
    mutating func insert(left: Int32, right: Int32, merge: Merge) -> Bool {
        if (count + 1) * 2 > keys.count { grow() }
        let key = Self.key(left, right)
        var slot = Self.slot(for: key, mask: mask)
        while keys[slot] != Self.empty {
            if keys[slot] == key { return false }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = merge
        count += 1
        return true
    }

    /// The merge joining `left` and `right`, or nil.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        let key = Self.key(left, right)
        return keys.withUnsafeBufferPointer { keys in
            var slot = Self.slot(for: key, mask: mask)
            while true {
                let k = keys[slot]
                if k == key { return values[slot] }
                if k == Self.empty { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let size = keys.count * 2
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [Merge](repeating: Merge(rank: 0, result: 0), count: size)
        mask = size - 1
        for (index, key) in oldKeys.enumerated() where key != Self.empty {
            var slot = Self.slot(for: key, mask: mask)
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = oldValues[index]
        }
    }
}
