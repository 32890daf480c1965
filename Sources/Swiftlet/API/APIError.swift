import Foundation

/// An error of the OpenAI-compatible API, answered with an OpenAI-style JSON body:
/// `{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`. The server sends it
/// with `statusCode`; a batch line that fails records it.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status (400 for a request that cannot run as sent).
    public var statusCode: Int
    public var message: String
    /// OpenAI's error type: `invalid_request_error`, `authentication_error`, ...
    public var type: String
    /// The request field at fault, when there is one.
    public var parameter: String?
    public var code: String?
    /// Seconds for a `Retry-After` header (429).
    public var retryAfter: Int?

    public init(statusCode: Int, message: String, type: String, parameter: String? = nil, code: String? = nil,
                retryAfter: Int? = nil) {
        self.statusCode = statusCode
        self.message = message
        self.type = type
        self.parameter = parameter
        self.code = code
        self.retryAfter = retryAfter
    }

    public static func == (a: APIError, b: APIError) -> Bool {
        a.statusCode == b.statusCode && a.message == b.message && a.type == b.type && a.parameter == b.parameter && a.code == b.code
    }

    /// 400: the request cannot be run as sent.
    public static func badRequest(_ message: String, parameter: String? = nil) -> APIError {
        APIError(statusCode: 400, message: message, type: "invalid_request_error", parameter: parameter)
    }

    /// 404: no such object.
    public static func notFound(_ message: String) -> APIError {
        APIError(statusCode: 404, message: message, type: "invalid_request_error", code: "not_found")
    }

    public var description: String { "\(statusCode) \(type): \(message)" }

    /// The inner object of the body: `{"message", "type", "param", "code"}`.
    public var object: JSONValue {
        var error: [String: JSONValue] = ["message": .string(message), "type": .string(type)]
        error["param"] = parameter.map { .string($0) } ?? .null
        error["code"] = code.map { .string($0) } ?? .null
        return .object(error)
    }

    /// The JSON body.
    public var body: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(JSONValue.object(["error": object]))) ?? Data()
    }
}
