/// An append-only set of byte strings, each numbered in insertion order, with lookup of a
/// string's number from any byte span without allocating (open addressing over one
/// contiguous byte arena). Token texts are looked up millions of times per megabyte of
/// input; `[UInt8]`-keyed dictionaries would hash and allocate on every probe.
struct ByteStringTable: Sendable {
    /// All strings back to back.
    private var arena: [UInt8] = []
    /// `offsets[i] ..< offsets[i + 1]` is string `i` in `arena` (64-bit: no table size
    /// can wrap them).
    private var offsets: [Int] = [0]
    /// Open-addressing slots: string number + 1, or 0 for empty.
    private var slots: [Int32]
    private var mask: Int

    /// The number of strings.
    var count: Int { offsets.count - 1 }

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    /// The bytes of string `index`.
    func bytes(at index: Int) -> ArraySlice<UInt8> {
        arena[offsets[index]..<offsets[index + 1]]
    }

    /// The length in bytes of string `index`.
    func length(at index: Int) -> Int {
        offsets[index + 1] - offsets[index]
    }

    /// Appends `bytes` as string number `count` even when an equal string is already present;
    /// lookups then find the newest one (a vocabulary's later duplicate wins, as in llama.cpp).
    /// Returns the new string's number. Callers keep the count below `Int32.max` (token ids
    /// are 32-bit; `Vocabulary` and `ByteLevelBPETokenizer` check it before appending).
    @discardableResult
    mutating func append<C: Collection>(_ bytes: C) -> Int where C.Element == UInt8 {
        let index = count
        if bytes.withContiguousStorageIfAvailable({ arena.append(contentsOf: $0) }) == nil {
            arena.append(contentsOf: bytes)
        }
        offsets.append(arena.count)
        if count * 2 > slots.count { rehash(to: slots.count * 2) }
        let slot = findSlot(of: index)
        slots[slot] = Int32(index + 1)
        return index
    }

    /// The number of the string equal to `key`, or nil.
    @inline(__always)
    func index(of key: UnsafeRawBufferPointer) -> Int? {
        var slot = Self.hash(key) & mask
        return arena.withUnsafeBytes { arenaBytes in
            offsets.withUnsafeBufferPointer { offsets in
                slots.withUnsafeBufferPointer { slots in
                    while true {
                        let entry = Int(slots[slot])
                        if entry == 0 { return nil }
                        let start = offsets[entry - 1]
                        let length = offsets[entry] - start
                        if length == key.count
                            && (length == 0 || memoryEqual(arenaBytes.baseAddress! + start, key.baseAddress!, length)) {
                            return entry - 1
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// The number of the string equal to `key`, or nil.
    func index<C: Collection>(of key: C) -> Int? where C.Element == UInt8 {
        if let found = key.withContiguousStorageIfAvailable({ index(of: UnsafeRawBufferPointer($0)) }) {
            return found
        }
        return Array(key).withUnsafeBytes { index(of: $0) }
    }

    // MARK: - Internals

    /// The slot where string `index` goes: the first empty one, or the one holding an equal
    /// string (which the new string replaces).
    private func findSlot(of index: Int) -> Int {
        arena.withUnsafeBytes { arenaBytes in
            let start = offsets[index]
            let length = offsets[index + 1] - start
            let key = UnsafeRawBufferPointer(rebasing: arenaBytes[start..<(start + length)])
            var slot = Self.hash(key) & mask
            while true {
                let entry = Int(slots[slot])
                if entry == 0 { return slot }
                let otherStart = offsets[entry - 1]
                if offsets[entry] - otherStart == length
                    && (length == 0 || memoryEqual(arenaBytes.baseAddress! + otherStart, arenaBytes.baseAddress! + start, length)) {
                    return slot
                }
                slot = (slot + 1) & mask
            }
        }
    }

    private mutating func rehash(to size: Int) {
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
        for index in 0..<count {
            slots[findSlot(of: index)] = Int32(index + 1)
        }
    }

    /// A 64-bit multiply-mix hash, eight bytes at a time.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: key.count)
        var i = 0
        let n = key.count
        while i + 8 <= n {
            let word = key.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ word) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(key[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        }
        h ^= h >> 29
        h = h &* 0x94D0_49BB_1331_11EB
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }
}

@inline(__always)
private func memoryEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    var i = 0
    while i + 8 <= count {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < count {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}
