/// A number format weights or the KV cache can be stored in: 32-bit floats, or 16-bit floats
/// (half the memory and bandwidth; F16 GGUF weights, llama.cpp's default cache type).
/// Kernels read sixteen elements at a time as `SIMD16<Float>` and compute in `Float` either
/// way; widening F16 to F32 is exact, so a kernel gives the same sums on F16 values as on
/// their F32 copies.
public protocol StoredFloat {
    /// Sixteen elements from `p`, widened to floats.
    static func load16(_ p: UnsafePointer<Self>) -> SIMD16<Float>
    /// One element, widened.
    static func float(_ p: UnsafePointer<Self>, _ index: Int) -> Float
    /// Stores `count` floats from `source` into `destination`, rounding to this format.
    static func store(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Self>, count: Int)
    /// Writes `count` elements of `source` to `destination` as floats.
    static func widen(_ source: UnsafePointer<Self>, into destination: UnsafeMutablePointer<Float>, count: Int)
}

extension Float: StoredFloat {
    @_transparent
    public static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @_transparent
    public static func float(_ p: UnsafePointer<Float>, _ index: Int) -> Float { p[index] }

    @inline(__always)
    public static func store(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        destination.update(from: source, count: count)
    }

    @inline(__always)
    public static func widen(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        destination.update(from: source, count: count)
    }
}

extension Float16: StoredFloat {
    @_transparent
    public static func load16(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
        // Lane by lane: the optimiser turns this into one vcvtph2ps, while the generic
        // `SIMD16<Float>(SIMD16<Float16>)` initialiser can stay an out-of-line call.
        let halves = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self)
        var floats = SIMD16<Float>()
        for i in 0..<16 { floats[i] = Float(halves[i]) }
        return floats
    }

    @_transparent
    public static func float(_ p: UnsafePointer<Float16>, _ index: Int) -> Float { Float(p[index]) }

    @inline(__always)
    public static func store(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float16>, count: Int) {
        let c16 = count & ~15
        var i = 0
        while i < c16 {
            let v = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Float>.self)
            var halves = SIMD16<Float16>()
            for lane in 0..<16 { halves[lane] = Float16(v[lane]) }
            UnsafeMutableRawPointer(destination + i).storeBytes(of: halves, as: SIMD16<Float16>.self)
            i += 16
        }
        while i < count {
            destination[i] = Float16(source[i])
            i += 1
        }
    }

    @inline(__always)
    public static func widen(_ source: UnsafePointer<Float16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        let c16 = count & ~15
        var i = 0
        while i < c16 {
            UnsafeMutableRawPointer(destination + i).storeBytes(of: load16(source + i), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            destination[i] = Float(source[i])
            i += 1
        }
    }
}
