/// Keys and values of every sequence, in fixed-size blocks of one preallocated pool.
///
/// Block `b` of layer `l` holds `blockSize` token slots of `kvDimension` keys (and values):
/// storage is `(layer, block, slot, kvDimension)`. Which blocks belong to which sequence is
/// the caller's business (a block table per sequence, handed to each forward step);
/// `blocks` hands out and takes back block ids.
public final class PagedKVCache: @unchecked Sendable {
    public let blockSize: Int
    public let blockCount: Int
    public let layerCount: Int
    public let kvDimension: Int
    /// Allocation, ref counts and prefix keys of the blocks.
    public let blocks: BlockPool

    /// `(layer, block, slot, kvDimension)`
    let keys: UnsafeMutablePointer<Float>
    /// `(layer, block, slot, kvDimension)`
    let values: UnsafeMutablePointer<Float>

    /// Bytes one cached token takes over all layers (keys and values).
    public static func bytesPerToken(_ configuration: ModelConfiguration) -> Int {
        2 * configuration.layerCount * configuration.kvDimension * MemoryLayout<Float>.size
    }

    /// A cache of `blockCount` blocks of `blockSize` tokens for `configuration`.
    public init(configuration: ModelConfiguration, blockSize: Int = 16, blockCount: Int) {
        precondition(blockSize > 0 && blockCount > 0, "KV cache needs at least one block of one token")
        self.blockSize = blockSize
        self.blockCount = blockCount
        layerCount = configuration.layerCount
        kvDimension = configuration.kvDimension
        let count = layerCount * blockCount * blockSize * kvDimension
        // calloc: pages are only backed by memory once written.
        keys = calloc(count, MemoryLayout<Float>.size)!.bindMemory(to: Float.self, capacity: count)
        values = calloc(count, MemoryLayout<Float>.size)!.bindMemory(to: Float.self, capacity: count)
        blocks = BlockPool(blockCount: blockCount)
    }

    /// A cache sized to `megabytes` of memory (at least one block).
    public convenience init(configuration: ModelConfiguration, blockSize: Int = 16, megabytes: Int) {
        let perBlock = Self.bytesPerToken(configuration) * blockSize
        self.init(configuration: configuration, blockSize: blockSize, blockCount: max(1, megabytes * 1_048_576 / perBlock))
    }

    deinit {
        free(keys)
        free(values)
    }

    /// Tokens the cache holds when full.
    public var tokenCapacity: Int { blockCount * blockSize }

    /// Start of the key vector of `slot` in `block` of `layer`.
    @inline(__always)
    func keyPointer(layer: Int, block: Int, slot: Int) -> UnsafeMutablePointer<Float> {
        keys + ((layer * blockCount + block) * blockSize + slot) * kvDimension
    }

    /// Start of the value vector of `slot` in `block` of `layer`.
    @inline(__always)
    func valuePointer(layer: Int, block: Int, slot: Int) -> UnsafeMutablePointer<Float> {
        values + ((layer * blockCount + block) * blockSize + slot) * kvDimension
    }

    /// Blocks needed to hold `tokens` tokens.
    public func blocksNeeded(forTokens tokens: Int) -> Int {
        (tokens + blockSize - 1) / blockSize
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
