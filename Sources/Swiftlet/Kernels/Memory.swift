import Foundation
import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory hints the compiler has no Swift spelling for.
public enum Memory {
    /// Bytes of the last-level cache one core sees, as Linux reports it
    /// (`/sys/devices/system/cpu/cpu0/cache/index3/size`, e.g. `32768K`); nil where unknown.
    /// (glibc's `sysconf(_SC_LEVEL3_CACHE_SIZE)` said 320 MiB on a 32 MiB Zen 4 VM.)
    public static let lastLevelCacheBytes: Int? = {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cache/index3/size", encoding: .utf8) else { return nil }
        return parseCacheSize(text)
        #else
        return nil
        #endif
    }()

    /// `32768K`, `32M` or `1048576` (bytes) as bytes; nil when it is none of these.
    static func parseCacheSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let scale: Int
        var digits = Substring(trimmed)
        switch trimmed.last {
        case "K": scale = 1 << 10; digits = digits.dropLast()
        case "M": scale = 1 << 20; digits = digits.dropLast()
        default: scale = 1
        }
        guard let value = Int(digits), value > 0, value <= Int.max / scale else { return nil }
        return value * scale
    }

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
    /// - Throws: `AllocationError` when the system refuses the memory.
    public static func allocateZeroed(bytes: Int) throws -> UnsafeMutableRawPointer {
        guard bytes >= 0 else { throw AllocationError(bytes: bytes) }
        #if os(Linux)
        guard let pointer = mmap(nil, max(bytes, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              pointer != MAP_FAILED else { throw AllocationError(bytes: bytes) }
        return pointer
        #else
        guard let pointer = calloc(max(bytes, 1), 1) else { throw AllocationError(bytes: bytes) }
        return pointer
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

/// The system refused an allocation (the memory plan should have refused the settings first).
public struct AllocationError: Error, CustomStringConvertible, Equatable {
    /// Bytes asked for.
    public let bytes: Int

    public var description: String {
        "out of memory: the system refused \(MemoryPlan.format(bytes)) (\(bytes) bytes); lower --kv-cache-mb, --max-batch-tokens or --context"
    }
}
