/// Ranked BPE merges keyed by the pair of symbol numbers they join: `(left, right)` →
/// (rank, number of the joined symbol). Open addressing over one flat array of 16-byte
/// entries (one cache line visit per probe); the first merge listed for a pair wins, as in
/// llama.cpp.
struct BPEMergeTable: Sendable {
    struct Merge: Sendable, Equatable {
        /// Position in `tokenizer.ggml.merges`: lower merges first.
        var rank: Int32
        /// Symbol number of the joined string.
        var result: Int32
    }

    private struct Entry {
        var key: UInt64
        var merge: Merge
    }

    private var entries: [Entry]
    private var mask: Int
    private(set) var count = 0

    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        entries = [Entry](repeating: Entry(key: Self.empty, merge: Merge(rank: 0, result: 0)), count: size)
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
        if (count + 1) * 2 > entries.count { grow() }
        let key = Self.key(left, right)
        let mask = self.mask
        let added = entries.withUnsafeMutableBufferPointer { entries -> Bool in
            var slot = Self.slot(for: key, mask: mask)
            while entries[slot].key != Self.empty {
                if entries[slot].key == key { return false }
                slot = (slot + 1) & mask
            }
            entries[slot] = Entry(key: key, merge: merge)
            return true
        }
        if added { count += 1 }
        return added
    }

    /// The merge joining `left` and `right`, or nil.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        let key = Self.key(left, right)
        return entries.withUnsafeBufferPointer { entries in
            var slot = Self.slot(for: key, mask: mask)
            while true {
                let k = entries[slot].key
                if k == key { return entries[slot].merge }
                if k == Self.empty { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    private mutating func grow() {
        let old = entries
        let size = entries.count * 2
        entries = [Entry](repeating: Entry(key: Self.empty, merge: Merge(rank: 0, result: 0)), count: size)
        mask = size - 1
        for entry in old where entry.key != Self.empty {
            var slot = Self.slot(for: entry.key, mask: mask)
            while entries[slot].key != Self.empty { slot = (slot + 1) & mask }
            entries[slot] = entry
        }
    }
}
