import CBLAS

/// Memory hints the compiler has no Swift spelling for.
public enum Memory {
    /// Asks the CPU to start loading `bytes` bytes at `address` into cache (one hint per
    /// 64-byte line); it does not wait for them.
    @inline(__always)
    public static func prefetch(_ address: UnsafeRawPointer, bytes: Int) {
        var offset = 0
        while offset < bytes {
            swiftlet_prefetch(address + offset)
            offset += 64
        }
    }
}
