// libFuzzer target: the GGUF reader (header, metadata, tensor infos) and the model
// hyperparameters read from it. Any input must give a value or a thrown error.
@testable import Swiftlet

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUFReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = MappedFile(bytes: Array(UnsafeBufferPointer(start: data, count: size)))
    guard let gguf = try? GGUFFile(file: file) else { return 0 }
    let metadata = gguf.metadata
    for key in metadata.keys {
        _ = try? metadata.int(key)
        _ = try? metadata.double(key)
        _ = try? metadata.string(key)
        _ = try? metadata.intArray(key)
        _ = try? metadata.stringArray(key)
        _ = try? metadata.doubleArray(key)
    }
    for tensor in gguf.tensors {
        let bytes = gguf.data(of: tensor)
        precondition(bytes.count == tensor.byteCount)
        precondition(gguf.tensor(named: tensor.name) != nil)
    }
    _ = try? GGUFModel(file: gguf)
    return 0
}
