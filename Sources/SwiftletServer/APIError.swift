import Foundation

/// An error answered with an OpenAI-style JSON body:
/// `{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`.
///
/// This file holds what the request decoders need and imports no HTTP library (the fuzz
/// target of the decoders builds it without Hummingbird); `APIError+HTTP.swift` adds the
/// HTTP status type and the response.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code: 400, 401, 413, 429, 503, ...
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

    public var description: String { "\(statusCode) \(type): \(message)" }

    /// The JSON body.
    var body: Data {
        var error: [String: JSONValue] = ["message": .string(message), "type": .string(type)]
        error["param"] = parameter.map { .string($0) } ?? .null
        error["code"] = code.map { .string($0) } ?? .null
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(JSONValue.object(["error": .object(error)]))) ?? Data()
    }
}
