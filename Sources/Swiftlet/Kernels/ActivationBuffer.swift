/// The input rows of a linear layer for one step: `(capacity, columns)` floats as computed,
/// plus the same rows quantized to 8-bit blocks when any weight that reads them is a block
/// format (Q8_0, Q4_0: llama.cpp's scheme of quantizing activations per row). Each row is
/// quantized on its own, so a token's blocks never depend on the rest of the batch.
public final class ActivationBuffer: @unchecked Sendable {
    /// `(capacity, columns)` floats: write rows here, then call `prepare(rows:)`.
    public let floats: UnsafeMutablePointer<Float>
    /// `(capacity, blockRowBytes)` 8-bit blocks, or nil when no block-format weight reads these rows.
    private let blocks: UnsafeMutableRawPointer?
    private let blockFormat: WeightFormat?
    private let blockRowBytes: Int
    public let capacity: Int
    public let columns: Int
    private let floatBytes: Int
    private let blockBytes: Int

    /// Room for `capacity` rows of `columns`, prepared for the weights of `formats`.
    /// - Throws: `AllocationError` when the system refuses the memory.
    public init(capacity: Int, columns: Int, formats: [WeightFormat]) throws {
        self.capacity = max(1, capacity)
        self.columns = columns
        floatBytes = self.capacity * columns * 4 + 64
        let floatMemory = try Memory.allocateZeroed(bytes: floatBytes)
        floats = floatMemory.bindMemory(to: Float.self, capacity: self.capacity * columns)
        blockFormat = formats.first { $0.activations == .blocks8 }
        if let blockFormat {
            blockRowBytes = blockFormat.activationRowBytes(columns: columns)
            blockBytes = self.capacity * blockRowBytes + 64
            do { blocks = try Memory.allocateZeroed(bytes: blockBytes) } catch {
                Memory.deallocateZeroed(floatMemory, bytes: floatBytes)
                throw error
            }
        } else {
            (blockRowBytes, blockBytes, blocks) = (0, 0, nil)
        }
    }

    /// Bytes `init(capacity:columns:formats:)` allocates (saturating).
    public static func byteCount(capacity: Int, columns: Int, formats: [WeightFormat]) -> Int {
        let rows = max(1, capacity)
        var bytes = MemoryPlan.add(MemoryPlan.multiply(MemoryPlan.multiply(rows, columns), 4), 64)
        if let format = formats.first(where: { $0.activations == .blocks8 }) {
            bytes = MemoryPlan.add(bytes, MemoryPlan.add(MemoryPlan.multiply(rows, format.activationRowBytes(columns: columns)), 64))
        }
        return bytes
    }

    deinit {
        Memory.deallocateZeroed(floats, bytes: floatBytes)
        if let blocks { Memory.deallocateZeroed(blocks, bytes: blockBytes) }
    }

    /// Quantizes rows `0..<rows` for the block-format weights (nothing for float weights).
    /// Call after writing the floats and before multiplying, outside the pool's regions.
    public func prepare(rows: Int, kernels: Kernels) {
        guard let blocks, let blockFormat else { return }
        kernels.prepareActivations(type: blockFormat.type.rawValue, floats, into: blocks, m: rows, k: columns)
    }

    /// The prepared rows `format` multiplies.
    @inline(__always)
    func rows(for format: WeightFormat) -> UnsafeRawPointer {
        if format.activations == .blocks8, let blocks { return UnsafeRawPointer(blocks) }
        return UnsafeRawPointer(floats)
    }
}
