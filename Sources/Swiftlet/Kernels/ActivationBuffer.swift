/// The input rows of a linear layer for one step: `(capacity, columns)` floats as computed,
/// plus the same rows quantized for each block-format activation kind the weights reading
/// them need (8-bit 32-element blocks for Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/IQ4_NL, 8-bit
/// 256-element blocks for the super-block formats: llama.cpp's scheme of quantizing
/// activations per row). Each row is quantized on its own, so a token's blocks never depend
/// on the rest of the batch.
public final class ActivationBuffer: @unchecked Sendable {
    /// One quantized copy of the rows: `(capacity, rowBytes)` bytes for weights of `format`.
    private struct Quantized {
        let format: WeightFormat
        let rows: UnsafeMutableRawPointer
        let bytes: Int
        /// Bytes of one quantized row.
        let rowBytes: Int
    }

    /// `(capacity, columns)` floats: write rows here, then call `prepare(rows:)`.
    public let floats: UnsafeMutablePointer<Float>
    /// At most one copy per activation kind (`.blocks8`, `.superBlocks8`), in that order.
    private let quantized: [Quantized]
    public let capacity: Int
    public let columns: Int
    private let floatBytes: Int

    /// The activation kinds that need a quantized copy, each with the first format of that kind.
    private static func quantizedFormats(_ formats: [WeightFormat]) -> [WeightFormat] {
        [WeightFormat.Activations.blocks8, .superBlocks8].compactMap { kind in formats.first { $0.activations == kind } }
    }

    /// Room for `capacity` rows of `columns`, prepared for the weights of `formats`.
    /// - Throws: `AllocationError` when the system refuses the memory.
    public init(capacity: Int, columns: Int, formats: [WeightFormat]) throws {
        self.capacity = max(1, capacity)
        self.columns = columns
        floatBytes = self.capacity * columns * 4 + 64
        let floatMemory = try Memory.allocateZeroed(bytes: floatBytes)
        floats = floatMemory.bindMemory(to: Float.self, capacity: self.capacity * columns)
        var copies: [Quantized] = []
        for format in Self.quantizedFormats(formats) {
            let bytes = self.capacity * format.activationRowBytes(columns: columns) + 64
            do {
                copies.append(Quantized(format: format, rows: try Memory.allocateZeroed(bytes: bytes), bytes: bytes,
                                        rowBytes: format.activationRowBytes(columns: columns)))
            } catch {
                for copy in copies { Memory.deallocateZeroed(copy.rows, bytes: copy.bytes) }
                Memory.deallocateZeroed(floatMemory, bytes: floatBytes)
                throw error
            }
        }
        quantized = copies
    }

    /// Bytes `init(capacity:columns:formats:)` allocates (saturating).
    public static func byteCount(capacity: Int, columns: Int, formats: [WeightFormat]) -> Int {
        let rows = max(1, capacity)
        var bytes = MemoryPlan.add(MemoryPlan.multiply(MemoryPlan.multiply(rows, columns), 4), 64)
        for format in quantizedFormats(formats) {
            bytes = MemoryPlan.add(bytes, MemoryPlan.add(MemoryPlan.multiply(rows, format.activationRowBytes(columns: columns)), 64))
        }
        return bytes
    }

    deinit {
        Memory.deallocateZeroed(floats, bytes: floatBytes)
        for copy in quantized { Memory.deallocateZeroed(copy.rows, bytes: copy.bytes) }
    }

    /// Quantizes rows `0..<rows` for the block-format weights (nothing for float weights).
    /// Call after writing the floats and before multiplying, outside the pool's regions.
    public func prepare(rows: Int, kernels: Kernels) {
        for copy in quantized {
            kernels.prepareActivations(type: copy.format.type.rawValue, floats, into: copy.rows, m: rows, k: columns)
        }
    }

    /// `prepare(rows:kernels:)` with the rows split over the pool's threads (each row is
    /// quantized on its own, so the bytes are the same); few rows stay on the caller.
    public func prepare(rows: Int, kernels: Kernels, pool: ThreadPool) {
        guard !quantized.isEmpty else { return }
        guard rows >= Self.rowsWorthSplitting, pool.threadCount > 1 else { return prepare(rows: rows, kernels: kernels) }
        let parts = pool.parts(rows)
        pool.run(parts: parts) { part, _ in
            let share = pool.partition(rows, part: part, of: parts)
            guard !share.isEmpty else { return }
            for copy in quantized {
                kernels.prepareActivations(type: copy.format.type.rawValue, floats + share.lowerBound * columns,
                                           into: copy.rows + share.lowerBound * copy.rowBytes, m: share.count, k: columns)
            }
        }
    }

    /// Rows from which quantizing them on every thread pays for the region.
    static let rowsWorthSplitting = 16

    /// The prepared rows `format` multiplies.
    @inline(__always)
    func rows(for format: WeightFormat) -> UnsafeRawPointer {
        if format.activations != .floats {
            for copy in quantized where copy.format.activations == format.activations { return UnsafeRawPointer(copy.rows) }
        }
        return UnsafeRawPointer(floats)
    }
}
