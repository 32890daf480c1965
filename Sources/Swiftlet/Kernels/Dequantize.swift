/// Conversions of ggml tensor encodings to F32 (load time only).
public enum Dequantize {
    /// Decodes `count` elements of `type` from `source` into `destination`.
    /// `source` must hold exactly `count / type.blockSize * type.blockBytes` bytes.
    public static func decode(_ source: UnsafeRawBufferPointer, type: GGMLType, count: Int,
                              into destination: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            for i in 0..<count { destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<count { destination[i] = half(source, at: 2 * i) }
        case .bf16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .q8_0:
            for block in 0..<(count / 32) {
                let base = block * 34
                let scale = half(source, at: base)
                for j in 0..<32 {
                    let q = Int8(bitPattern: source[base + 2 + j])
                    destination[block * 32 + j] = Float(q) * scale
                }
            }
        case .q4_0:
            for block in 0..<(count / 32) {
                let base = block * 18
                let scale = half(source, at: base)
                for j in 0..<16 {
                    let byte = source[base + 2 + j]
                    destination[block * 32 + j] = Float(Int(byte & 0x0F) - 8) * scale
                    destination[block * 32 + j + 16] = Float(Int(byte >> 4) - 8) * scale
                }
            }
        }
    }

    @inline(__always)
    static func half(_ source: UnsafeRawBufferPointer, at offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }
}
