import Foundation
import Hummingbird

/// An error answered with an OpenAI-style JSON body:
/// `{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI's error type: `invalid_request_error`, `authentication_error`, ...
    public var type: String
    /// The request field at fault, when there is one.
    public var parameter: String?
    public var code: String?
    /// Seconds for a `Retry-After` header (429).
    public var retryAfter: Int?

    public init(status: HTTPResponse.Status, message: String, type: String, parameter: String? = nil, code: String? = nil,
                retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.parameter = parameter
        self.code = code
        self.retryAfter = retryAfter
    }

    public static func == (a: APIError, b: APIError) -> Bool {
        a.status == b.status && a.message == b.message && a.type == b.type && a.parameter == b.parameter && a.code == b.code
    }

    /// 400: the request cannot be run as sent.
    public static func badRequest(_ message: String, parameter: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", parameter: parameter)
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    /// The JSON body.
    var body: Data {
        var error: [String: JSONValue] = ["message": .string(message), "type": .string(type)]
        error["param"] = parameter.map { .string($0) } ?? .null
        error["code"] = code.map { .string($0) } ?? .null
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(JSONValue.object(["error": .object(error)]))) ?? Data()
    }

    /// The error as a response.
    var response: Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        if let retryAfter { fields[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
