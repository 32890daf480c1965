// libFuzzer target: the llama2.c readers. The first byte chooses the checkpoint reader
// (even) or the tokenizer.bin reader (odd); the rest is the file.
@testable import Swiftlet

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLlama2C(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 0 {
        let file = MappedFile(bytes: bytes)
        guard let checkpoint = try? Llama2CCheckpoint(file: file) else { return 0 }
        _ = checkpoint.configuration.vocabularySize
    } else {
        let vocabularySize: Int? = data[0] & 2 == 0 ? nil : Int(data[0] >> 2) + 1
        let tokenizer = bytes.withUnsafeBytes {
            try? Llama2TokenizerFile.tokenizer(from: $0, vocabularySize: vocabularySize)
        }
        guard let tokenizer else { return 0 }
        let ids = tokenizer.encode("Once upon a time, <s> 42 \u{1F999}", addSpecialTokens: true, parseSpecial: true)
        for id in ids { precondition(id >= 0 && Int(id) < tokenizer.vocabularySize) }
        _ = tokenizer.decode(ids)
    }
    return 0
}
