/// One forward step's tokens, from any number of sequences (llama.cpp's `llama_batch`,
/// vLLM's flattened batch). Prefill of a prompt, one decode token, a decode step of 64
/// sequences, a prompt chunk mixed with decodes and k+1 verification tokens are all one
/// `TokenBatch`. Reuse one value across steps: `removeAll()` keeps the capacity.
public struct TokenBatch: Sendable {
    /// Token ids, `(tokenCount)`.
    public private(set) var tokens: [Int32] = []
    /// Each token's position in its sequence, `(tokenCount)`.
    public private(set) var positions: [Int32] = []
    /// Each token's sequence, an index into the batch's block tables, `(tokenCount)`.
    public private(set) var sequences: [Int32] = []
    /// Whether the step returns logits for the token, `(tokenCount)`.
    public private(set) var wantsLogits: [Bool] = []
    /// The sequences' block tables, concatenated, `(total blocks)`.
    public private(set) var blockIDs: [Int32] = []
    /// Start of each sequence's table in `blockIDs`, `(sequenceCount + 1)`.
    public private(set) var tableOffsets: [Int32] = [0]

    public init() {}

    public var tokenCount: Int { tokens.count }
    public var sequenceCount: Int { tableOffsets.count - 1 }
    /// Tokens whose logits are wanted; the forward returns this many rows, in batch order.
    public private(set) var logitRowCount = 0

    /// Adds a sequence whose KV blocks are `blockTable` (block `i` holds positions
    /// `i * blockSize ..< (i + 1) * blockSize`) and returns its index for `append`.
    @discardableResult
    public mutating func addSequence<C: Collection>(blockTable: C) -> Int32 where C.Element == Int32 {
        blockIDs.append(contentsOf: blockTable)
        tableOffsets.append(Int32(blockIDs.count))
        return Int32(tableOffsets.count - 2)
    }

    /// Adds one token of sequence `sequence` at `position`.
    public mutating func append(token: Int32, position: Int, sequence: Int32, wantsLogits: Bool) {
        tokens.append(token)
        positions.append(Int32(position))
        sequences.append(sequence)
        self.wantsLogits.append(wantsLogits)
        if wantsLogits { logitRowCount += 1 }
    }

    /// Empties the batch, keeping its storage.
    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        wantsLogits.removeAll(keepingCapacity: true)
        blockIDs.removeAll(keepingCapacity: true)
        tableOffsets.removeAll(keepingCapacity: true)
        tableOffsets.append(0)
        logitRowCount = 0
    }
}

/// The logits a forward step returns: one row per token that asked for them, in batch
/// order. A view into the model's scratch memory, valid until its next forward.
public struct Logits {
    /// `(rowCount, vocabularySize)` row-major.
    public let pointer: UnsafeMutablePointer<Float>
    public let rowCount: Int
    public let vocabularySize: Int

    /// Row `index` of the logits.
    public func row(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(index >= 0 && index < rowCount, "logit row \(index) out of range")
        return UnsafeMutableBufferPointer(start: pointer + index * vocabularySize, count: vocabularySize)
    }
}
