import CSwiftletKernels

/// A CPU variant of the C kernels: each kernel of `CSwiftletKernels` is compiled for
/// AVX-512 (with VNNI), AVX2 (with FMA and F16C) and a portable baseline. The default is
/// the best the CPU supports; `SWIFTLET_CPU=baseline|avx2|avx512` forces a lower one (for
/// tests and bug reports), and an engine may ask for one (`EngineConfiguration.kernelPath`).
/// A path the CPU lacks falls back to the best one it has.
public enum KernelPath: String, CaseIterable, Sendable, Comparable {
    case baseline, avx2, avx512

    init(code: Int32) {
        switch code {
        case Int32(SWK_PATH_AVX512.rawValue): self = .avx512
        case Int32(SWK_PATH_AVX2.rawValue): self = .avx2
        default: self = .baseline
        }
    }

    var code: Int32 {
        switch self {
        case .baseline: return Int32(SWK_PATH_BASELINE.rawValue)
        case .avx2: return Int32(SWK_PATH_AVX2.rawValue)
        case .avx512: return Int32(SWK_PATH_AVX512.rawValue)
        }
    }

    public static func < (a: KernelPath, b: KernelPath) -> Bool { a.code < b.code }

    /// The default path (`swk_cpu_path`): the best, or the one `SWIFTLET_CPU` names.
    public static var current: KernelPath { KernelPath(code: swk_cpu_path()) }

    /// The best path this CPU supports (`swk_cpu_best_path`).
    public static var best: KernelPath { KernelPath(code: swk_cpu_best_path()) }

    /// The CPU features the dispatcher saw (`swk_cpu_features`), e.g. "avx2 fma f16c avx512f ...".
    public static var cpuFeatures: String { String(cString: swk_cpu_features()) }

    /// A one-line description for `inspect` and `bench`: the path, the features seen and the
    /// last-level cache size (which decides whether a model's weights stream from memory).
    public static var summary: String {
        let path = current
        let forced = path < best ? " (forced by SWIFTLET_CPU; best: \(best.rawValue))" : ""
        let cache = Memory.lastLevelCacheBytes.map { "; last-level cache: \($0 >> 20) MiB" } ?? ""
        return "\(path.rawValue)\(forced); cpu features: \(cpuFeatures)\(cache)"
    }

    /// Checks `SWIFTLET_CPU`: unset, or one of the path names.
    public static func validateEnvironment(_ environment: [String: String]) throws {
        guard let value = environment["SWIFTLET_CPU"] else { return }
        guard KernelPath(rawValue: value) != nil else {
            throw KernelPathError(value: value)
        }
    }
}

/// `SWIFTLET_CPU` names no kernel path.
public struct KernelPathError: Error, CustomStringConvertible {
    public let value: String
    public var description: String {
        "SWIFTLET_CPU='\(value)' is not a kernel path (use one of: \(KernelPath.allCases.map(\.rawValue).joined(separator: ", ")))"
    }
}

/// One path's kernels: the thin boundary to `CSwiftletKernels`. Each method calls the
/// `swk_*` function it names with this path's dispatch table; pointers pass straight
/// through and shapes are the callers' business.
public struct Kernels: @unchecked Sendable {
    /// The path these kernels run.
    public let path: KernelPath
    private let table: OpaquePointer

    /// The kernels of `path`, or of the best path below it the CPU supports (`swk_kernels_for`).
    public init(path: KernelPath) {
        table = swk_kernels_for(path.code)
        self.path = KernelPath(code: swk_kernels_path(table))
    }

    /// The kernels of the default path (`KernelPath.current`).
    public static var `default`: Kernels { defaultKernels }
    private static let defaultKernels = Kernels(path: .current)

    /// Activation rows up to which the matmul kernels stream each weight row once for all
    /// rows (`SWK_SKINNY_ROWS`): decode batches and speculative verification.
    public static let skinnyRows = Int(SWK_SKINNY_ROWS)

    /// `swk_matmul`: weight rows `rows` of `y = a · wᵀ`, `y` with row stride `ldy`.
    @inline(__always)
    func matmul(type: UInt32, _ a: UnsafeRawPointer, _ w: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>,
                m: Int, k: Int, ldy: Int, rows: Range<Int>, scratch: UnsafeMutableRawPointer?, scratchBytes: Int,
                fromMemory: Bool) {
        swk_matmul(table, Int32(type), a, w, y, Int64(m), Int64(k), Int64(ldy), Int64(rows.lowerBound), Int64(rows.upperBound),
                   scratch, Int64(scratchBytes), fromMemory ? 1 : 0)
    }

    /// `swk_prepare_activations`.
    @inline(__always)
    func prepareActivations(type: UInt32, _ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer, m: Int, k: Int) {
        swk_prepare_activations(table, Int32(type), x, out, Int64(m), Int64(k))
    }

    /// `swk_attn_scores`.
    @inline(__always)
    func attentionScores(_ q: UnsafePointer<Float>, keys: UnsafeRawPointer, f16: Bool, blockSize: Int, rows: Int,
                         headDimension: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        swk_attn_scores(table, q, keys, f16 ? 1 : 0, Int64(blockSize), Int64(rows), Int64(headDimension), scale, out)
    }

    /// `swk_attn_scores4`.
    @inline(__always)
    func attentionScores4(_ q: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                          keys: UnsafeRawPointer, f16: Bool, blockSize: Int, rows: Int, headDimension: Int, scale: Float,
                          into out: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                     UnsafeMutablePointer<Float>)) {
        var queries: (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?) = (q.0, q.1, q.2, q.3)
        var outputs: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?,
                      UnsafeMutablePointer<Float>?) = (out.0, out.1, out.2, out.3)
        withUnsafePointer(to: &queries) { qp in
            withUnsafePointer(to: &outputs) { op in
                qp.withMemoryRebound(to: UnsafePointer<Float>?.self, capacity: 4) { q4 in
                    op.withMemoryRebound(to: UnsafeMutablePointer<Float>?.self, capacity: 4) { o4 in
                        swk_attn_scores4(table, q4, keys, f16 ? 1 : 0, Int64(blockSize), Int64(rows), Int64(headDimension), scale, o4)
                    }
                }
            }
        }
    }

    /// `swk_attn_accumulate`.
    @inline(__always)
    func attentionAccumulate(_ values: UnsafeRawPointer, f16: Bool, weights: UnsafePointer<Float>, rows: Int,
                             headDimension: Int, into out: UnsafeMutablePointer<Float>) {
        swk_attn_accumulate(table, values, f16 ? 1 : 0, weights, Int64(rows), Int64(headDimension), out)
    }

    /// `swk_attn_accumulate4`.
    @inline(__always)
    func attentionAccumulate4(_ values: UnsafeRawPointer, f16: Bool,
                              weights w: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                              rows: Int, headDimension: Int,
                              into out: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                         UnsafeMutablePointer<Float>)) {
        var weights: (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?) = (w.0, w.1, w.2, w.3)
        var outputs: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?,
                      UnsafeMutablePointer<Float>?) = (out.0, out.1, out.2, out.3)
        withUnsafePointer(to: &weights) { wp in
            withUnsafePointer(to: &outputs) { op in
                wp.withMemoryRebound(to: UnsafePointer<Float>?.self, capacity: 4) { w4 in
                    op.withMemoryRebound(to: UnsafeMutablePointer<Float>?.self, capacity: 4) { o4 in
                        swk_attn_accumulate4(table, values, f16 ? 1 : 0, w4, Int64(rows), Int64(headDimension), o4)
                    }
                }
            }
        }
    }

    /// `swk_softmax`: in-place softmax over `count` values.
    @inline(__always)
    public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) { swk_softmax(table, x, Int64(count)) }

    /// `swk_rms_norm`: `out = x / sqrt(mean(x²) + epsilon) * weight` for one row of `count`.
    @inline(__always)
    public func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float, into out: UnsafeMutablePointer<Float>,
                        count: Int) {
        swk_rms_norm(table, x, weight, epsilon, out, Int64(count))
    }

    /// `swk_swiglu`: `gate = silu(gate) * up`.
    @inline(__always)
    public func swiGLU(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        swk_swiglu(table, gate, up, Int64(count))
    }

    /// `swk_geglu`: `gate = gelu_tanh(gate) * up`.
    @inline(__always)
    public func geGLU(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        swk_geglu(table, gate, up, Int64(count))
    }

    /// `swk_add`: `x += y`.
    @inline(__always)
    public func add(_ y: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count: Int) { swk_add(table, x, y, Int64(count)) }

    /// `swk_f16_to_f32`: widens `count` F16 values (exact).
    @inline(__always)
    public func widenHalves(_ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        swk_f16_to_f32(table, source.assumingMemoryBound(to: UInt16.self), destination, Int64(count))
    }

    /// `swk_f32_to_f16`: rounds `count` floats to F16 (nearest even).
    @inline(__always)
    public func narrowToHalves(_ source: UnsafePointer<Float>, into destination: UnsafeMutableRawPointer, count: Int) {
        swk_f32_to_f16(table, source, destination.assumingMemoryBound(to: UInt16.self), Int64(count))
    }
}

/// The type facts of the C kernels, the same on every path.
enum KernelTypes {
    /// `swk_activation_row_bytes`.
    static func activationRowBytes(type: UInt32, k: Int) -> Int { Int(swk_activation_row_bytes(Int32(type), Int64(k))) }

    /// `swk_type_supported`, `swk_type_block_size`, `swk_type_block_bytes`.
    static func supported(_ type: UInt32) -> Bool { swk_type_supported(Int32(type)) != 0 }
    static func blockSize(_ type: UInt32) -> Int { Int(swk_type_block_size(Int32(type))) }
    static func blockBytes(_ type: UInt32) -> Int { Int(swk_type_block_bytes(Int32(type))) }

    /// `swk_dequantize_row`.
    @inline(__always)
    static func dequantizeRow(type: UInt32, _ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        swk_dequantize_row(Int32(type), source, destination, Int64(count))
    }
}
