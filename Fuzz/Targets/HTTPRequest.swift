// libFuzzer target: the HTTP server's request-body decoders (Sources/Swiftlet/API:
// JSONValue, CompletionRequest, ChatCompletionRequest, SamplingFields, APIError), which the
// server and `swiftlet batch` share; the library imports no HTTP library.
//
// One input is a request body. Each decoder accepts it or throws an APIError with status
// 400, nothing else; an accepted body maps to sampling parameters that validate (or a 400).
import Foundation
import Swiftlet

private func expectBadRequest(_ body: () throws -> Void) {
    do {
        try body()
    } catch let error as APIError {
        precondition(error.statusCode == 400, "a decoder answered \(error.statusCode): \(error)")
    } catch {
        fatalError("a decoder threw \(type(of: error)), not APIError: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    expectBadRequest {
        let json = try JSONValue.parse(body)
        expectBadRequest {
            let request = try CompletionRequest(json: json)
            for choice in 0..<min(request.fields.n, 3) {
                let parameters = try request.fields.parameters(forChoice: choice, promptTokens: 5, maxContext: 256)
                do { try parameters.sampling.validate() } catch { fatalError("accepted parameters do not validate: \(error)") }
            }
        }
        expectBadRequest {
            let request = try ChatCompletionRequest(json: json)
            precondition(!request.messages.isEmpty, "a chat request without messages was accepted")
            _ = try request.fields.parameters(forChoice: 0, promptTokens: 9, maxContext: 64)
        }
    }
    return 0
}
