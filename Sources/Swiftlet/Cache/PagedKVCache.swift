/// The number format of the KV cache.
public enum KVCacheType: String, Sendable, CaseIterable {
    /// 32-bit floats: keys and values exactly as computed.
    case f32
    /// 16-bit floats, rounded once when stored: half the memory and the bandwidth of
    /// attention (llama.cpp's default). Logits differ from `f32` by the rounding only.
    case f16

    /// Bytes per cached number.
    public var byteCount: Int { self == .f32 ? 4 : 2 }
}

/// Keys and values of every sequence, in fixed-size blocks of one preallocated pool.
///
/// Block `b` of layer `l` holds `blockSize` token slots for each KV head, head-major, so
/// attention for one head reads each block as one contiguous run of numbers. Keys are stored
/// transposed within the block, `(headDimension, slot)`, so sixteen slots' scores come out of
/// one vector of multiply-adds with no horizontal sums; values are `(slot, headDimension)`,
/// the order the weighted sum reads them. Which blocks
/// belong to which sequence is the caller's business (a block table per sequence, handed to
/// each forward step); `blocks` hands out and takes back block ids.
public final class PagedKVCache: @unchecked Sendable {
    public let blockSize: Int
    public let blockCount: Int
    public let layerCount: Int
    public let kvHeadCount: Int
    public let headDimension: Int
    public let type: KVCacheType
    /// Allocation, ref counts and prefix keys of the blocks.
    public let blocks: BlockPool

    /// Bytes of `keys`, and of `values`.
    private let byteCount: Int
    /// `(layer, block, kvHead, headDimension, slot)` of `type`
    let keys: UnsafeMutableRawPointer
    /// `(layer, block, kvHead, slot, headDimension)` of `type`
    let values: UnsafeMutableRawPointer

    /// Bytes one cached token takes over all layers (keys and values).
    public static func bytesPerToken(_ configuration: ModelConfiguration, type: KVCacheType = .f32) -> Int {
        2 * configuration.layerCount * configuration.kvDimension * type.byteCount
    }

    /// A cache of `blockCount` blocks of `blockSize` tokens for `configuration`.
    /// - Throws: `AllocationError` when the system refuses the memory.
    public init(configuration: ModelConfiguration, blockSize: Int = 16, blockCount: Int, type: KVCacheType = .f32) throws {
        precondition(blockSize > 0 && blockCount > 0, "KV cache needs at least one block of one token")
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.type = type
        layerCount = configuration.layerCount
        kvHeadCount = configuration.kvHeadCount
        headDimension = configuration.headDimension
        let count = layerCount * blockCount * blockSize * configuration.kvDimension
        // Pages are only backed by memory once written.
        byteCount = count * type.byteCount
        let keyMemory = try Memory.allocateZeroed(bytes: byteCount)
        do { values = try Memory.allocateZeroed(bytes: byteCount) } catch {
            Memory.deallocateZeroed(keyMemory, bytes: byteCount)
            throw error
        }
        keys = keyMemory
        blocks = BlockPool(blockCount: blockCount)
    }

    /// A cache sized to `megabytes` of memory (at least one block). The byte count is
    /// computed with overflow checks: a size past `Int.max` bytes saturates instead of
    /// wrapping to a tiny cache (`EngineConfiguration.validate()` refuses such sizes first).
    public convenience init(configuration: ModelConfiguration, blockSize: Int = 16, megabytes: Int, type: KVCacheType = .f32) throws {
        try self.init(configuration: configuration, blockSize: blockSize,
                  blockCount: Self.blockCount(configuration, blockSize: blockSize, megabytes: megabytes, type: type), type: type)
    }

    /// The number of blocks of `blockSize` tokens that fit in `megabytes` MiB (at least one),
    /// with every product overflow-checked (saturating at `Int.max`).
    public static func blockCount(_ configuration: ModelConfiguration, blockSize: Int, megabytes: Int, type: KVCacheType) -> Int {
        let (bytes, bytesOverflow) = max(megabytes, 0).multipliedReportingOverflow(by: 1 << 20)
        let (perBlock, blockOverflow) = bytesPerToken(configuration, type: type).multipliedReportingOverflow(by: max(blockSize, 1))
        if blockOverflow { return 1 }
        return max(1, (bytesOverflow ? Int.max : bytes) / max(perBlock, 1))
    }

    deinit {
        Memory.deallocateZeroed(keys, bytes: byteCount)
        Memory.deallocateZeroed(values, bytes: byteCount)
    }

    /// Tokens the cache holds when full.
    public var tokenCapacity: Int { blockCount * blockSize }

    /// Element offset of the start of `kvHead`'s part of `block` in `layer`.
    @inline(__always)
    func offset(layer: Int, block: Int, kvHead: Int) -> Int {
        ((layer * blockCount + block) * kvHeadCount + kvHead) * blockSize * headDimension
    }

    /// Keys of `kvHead` in `block` of `layer`: `(headDimension, blockSize)` elements of `type`.
    @inline(__always)
    func keys(layer: Int, block: Int, kvHead: Int) -> UnsafeMutableRawPointer {
        keys + offset(layer: layer, block: block, kvHead: kvHead) * type.byteCount
    }

    /// Values of `kvHead` in `block` of `layer`: `(blockSize, headDimension)` elements of `type`.
    @inline(__always)
    func values(layer: Int, block: Int, kvHead: Int) -> UnsafeMutableRawPointer {
        values + offset(layer: layer, block: block, kvHead: kvHead) * type.byteCount
    }

    /// Stores one token's keys and values, `(kvDimension)` floats each, at `slot` of `block`.
    public func store(keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, layer: Int, block: Int, slot: Int) {
        let hd = headDimension
        switch type {
        case .f32:
            for head in 0..<kvHeadCount {
                let headKeys = keys(layer: layer, block: block, kvHead: head).assumingMemoryBound(to: Float.self) + slot
                for d in 0..<hd { headKeys[d * blockSize] = k[head * hd + d] }  // column `slot` of (hd, blockSize)
                let headValues = values(layer: layer, block: block, kvHead: head).assumingMemoryBound(to: Float.self) + slot * hd
                headValues.update(from: v + head * hd, count: hd)
            }
        case .f16:
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: hd) { halves in
                let h = halves.baseAddress!
                for head in 0..<kvHeadCount {
                    Kernels.default.narrowToHalves(k + head * hd, into: h, count: hd)
                    let headKeys = keys(layer: layer, block: block, kvHead: head).assumingMemoryBound(to: UInt16.self) + slot
                    for d in 0..<hd { headKeys[d * blockSize] = h[d] }
                    Kernels.default.narrowToHalves(v + head * hd, into: values(layer: layer, block: block, kvHead: head) + slot * hd * 2, count: hd)
                }
            }
        }
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
