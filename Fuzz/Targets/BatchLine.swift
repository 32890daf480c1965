// libFuzzer target: one line of a batch JSONL input file.
import Foundation
@testable import Swiftlet

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBatchLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = Data(bytes: data, count: size)
    _ = try? BatchRequest.parse(line: line, lineNumber: 7, defaults: GenerationParameters())
    return 0
}
