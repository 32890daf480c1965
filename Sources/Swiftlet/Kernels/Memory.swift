import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// `bytes` of zero-filled memory whose pages are backed only once written (a KV cache
    /// sized for the worst case costs what is used). On Linux an anonymous mapping: calloc
    /// takes large blocks from the heap once glibc has raised its mmap threshold after a
    /// large free, and then zeroes, and so backs, all of it.
    public static func allocateZeroed(bytes: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        guard let pointer = mmap(nil, max(bytes, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              pointer != MAP_FAILED else { fatalError("out of memory: \(bytes) bytes") }
        return pointer
        #else
        return calloc(max(bytes, 1), 1)!
        #endif
    }

    /// Releases memory from `allocateZeroed(bytes:)` (the same `bytes`).
    public static func deallocateZeroed(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        munmap(pointer, max(bytes, 1))
        #else
        free(pointer)
        #endif
    }
}
