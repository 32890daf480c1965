/// A read-only weight matrix, row-major `(rows, columns)` (a GGUF tensor's `[out x in]`),
/// in any `WeightFormat`, multiplied as stored. The elements usually point into a model
/// file's memory map; the owner keeps them alive.
public struct WeightMatrix: @unchecked Sendable {
    /// `(rows, rowBytes)` bytes: row `j` starts at `elements + j * rowBytes`.
    public let elements: UnsafeRawPointer
    public let format: WeightFormat
    public let rows: Int
    public let columns: Int
    /// Bytes of one row.
    public let rowBytes: Int

    /// A matrix of `format` at `elements` (not copied). `columns` must be a multiple of the
    /// format's block size.
    public init(elements: UnsafeRawPointer, format: WeightFormat, rows: Int, columns: Int) {
        precondition(format.holdsRows(of: columns), "\(columns) columns are not whole \(format) blocks")
        (self.elements, self.format, self.rows, self.columns) = (elements, format, rows, columns)
        rowBytes = format.rowBytes(columns: columns)
    }

    /// A matrix of F32 elements at `pointer` (not copied; the caller keeps them alive).
    public init(f32 pointer: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.init(elements: UnsafeRawPointer(pointer), format: WeightFormat(.f32)!, rows: rows, columns: columns)
    }

    /// A matrix of F16 elements at `pointer` (not copied; the caller keeps them alive).
    public init(f16 pointer: UnsafePointer<Float16>, rows: Int, columns: Int) {
        self.init(elements: UnsafeRawPointer(pointer), format: WeightFormat(.f16)!, rows: rows, columns: columns)
    }

    /// Bytes of all elements.
    public var byteCount: Int { rows * rowBytes }

    /// Writes row `index` as `columns` floats to `destination` (an embedding lookup).
    public func copyRow(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        format.dequantizeRow(elements + index * rowBytes, into: destination, count: columns)
    }
}
