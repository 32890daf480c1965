import Foundation
import Hummingbird
import Swiftlet

extension APIError {
    /// An error answered with `status`.
    public init(status: HTTPResponse.Status, message: String, type: String, parameter: String? = nil, code: String? = nil,
                retryAfter: Int? = nil) {
        self.init(statusCode: status.code, message: message, type: type, parameter: parameter, code: code, retryAfter: retryAfter)
    }

    /// The HTTP status.
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    /// The error as a response.
    var response: Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        if let retryAfter { fields[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
