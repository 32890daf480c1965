/// The input rows of a linear layer for one step: `(capacity, columns)` floats as computed,
/// plus the same rows quantized for each block-format activation kind the weights reading
/// them need (8-bit 32-element blocks for Q8_0/Q4_0, 8-bit 256-element blocks for the
/// super-block formats: llama.cpp's scheme of quantizing activations per row). Each row is
/// quantized on its own, so a token's blocks never depend on the rest of the batch.
public final class ActivationBuffer: @unchecked Sendable {
    /// One quantized copy of the rows: `(capacity, rowBytes)` bytes for weights of `format`.
    private struct Quantized {
        let format: WeightFormat
        let rows: UnsafeMutableRawPointer
        let bytes: Int
    }

    /// `(capacity, columns)` floats: write rows here, then call `prepare(rows:)`.
    public let floats: UnsafeMutablePointer<Float>
    /// At most one copy per activation kind (`.blocks8`, `.superBlocks8`), in that order.
    private let quantized: [Quantized]
    public let capacity: Int
    public let columns: Int
    private let floatBytes: Int

    /// Room for `capacity` rows of `columns`, prepared for the weights of `formats`.
    public init(capacity: Int, columns: Int, formats: [WeightFormat]) {
        self.capacity = max(1, capacity)
        self.columns = columns
        floatBytes = self.capacity * columns * 4 + 64
        floats = Memory.allocateZeroed(bytes: floatBytes).bindMemory(to: Float.self, capacity: self.capacity * columns)
        let capacity = self.capacity
        quantized = [WeightFormat.Activations.blocks8, .superBlocks8].compactMap { kind in
            guard let format = formats.first(where: { $0.activations == kind }) else { return nil }
            let bytes = capacity * format.activationRowBytes(columns: columns) + 64
            return Quantized(format: format, rows: Memory.allocateZeroed(bytes: bytes), bytes: bytes)
        }
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

    /// The prepared rows `format` multiplies.
    @inline(__always)
    func rows(for format: WeightFormat) -> UnsafeRawPointer {
        if format.activations != .floats {
            for copy in quantized where copy.format.activations == format.activations { return UnsafeRawPointer(copy.rows) }
        }
        return UnsafeRawPointer(floats)
    }
}
