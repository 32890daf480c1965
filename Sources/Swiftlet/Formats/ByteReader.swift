/// A bounds-checked little-endian cursor over a byte buffer. Every read checks the remaining
/// length first and throws `ModelFileError.malformed` naming `section` when it runs out.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    /// Names the part of the file being read, for error messages.
    var section: String = "header"

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    private func truncated(_ need: Int) -> ModelFileError {
        .malformed("file truncated in \(section): need \(need) bytes at offset \(offset), \(remaining) left")
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw truncated(size) }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    mutating func readFloat() throws -> Float { Float(bitPattern: try read(UInt32.self)) }
    mutating func readDouble() throws -> Double { Double(bitPattern: try read(UInt64.self)) }

    /// Reads `count` raw bytes.
    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw truncated(count) }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    mutating func skip(_ count: Int) throws {
        _ = try readBytes(count)
    }

    /// Reads a UTF-8 string of `count` bytes (invalid sequences are repaired with U+FFFD).
    mutating func readString(count: Int) throws -> String {
        let raw = try readBytes(count)
        return String(decoding: raw, as: UTF8.self)
    }
}
