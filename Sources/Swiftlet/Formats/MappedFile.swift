#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A read-only view of a whole file's bytes: memory-mapped from disk, or owned in memory
/// (for tests and fuzzing). The bytes stay valid for the lifetime of the object.
public final class MappedFile: @unchecked Sendable {
    /// The file's bytes; never mutated.
    public let bytes: UnsafeRawBufferPointer
    /// Whether `bytes` is a memory map of the file (else a copy in process memory).
    public let isMapped: Bool

    /// Maps the file at `path` read-only.
    /// - Throws: `ModelFileError.io` when the file cannot be opened or mapped.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ModelFileError.io("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ModelFileError.io("cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ModelFileError.io("'\(path)' is not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            isMapped = false
            return
        }
        #if os(Linux)
        // Map every page now (as llama.cpp's prefetch does): the first forward step would
        // otherwise take a page fault per 4 KiB of weights, inside the timed prefill.
        let flags = MAP_PRIVATE | MAP_POPULATE
        #else
        let flags = MAP_PRIVATE
        #endif
        guard let base = mmap(nil, size, PROT_READ, flags, fd, 0), base != MAP_FAILED else {
            throw ModelFileError.io("cannot map '\(path)': \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
        isMapped = true
    }

    /// Copies `data` into an owned, 64-byte aligned buffer.
    public init(bytes data: [UInt8]) {
        if data.isEmpty {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        } else {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 64)
            buffer.copyBytes(from: data)
            bytes = UnsafeRawBufferPointer(buffer)
        }
        isMapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            base.deallocate()
        }
    }
}

/// Errors raised while reading any checkpoint or tokenizer file. Each names the problem.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, read or mapped.
    case io(String)
    /// The file's contents break the format (bad magic, bad counts, truncation...).
    case malformed(String)
    /// The file is well formed but uses something Swiftlet does not implement.
    case unsupported(String)

    public var description: String {
        switch self {
        case .io(let message): return "I/O error: \(message)"
        case .malformed(let message): return "malformed model file: \(message)"
        case .unsupported(let message): return "unsupported model file: \(message)"
        }
    }
}
