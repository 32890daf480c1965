import Hummingbird

/// The HTTP side of `APIError`: its status as Hummingbird's type, and the response.
extension APIError {
    /// An error with an HTTP status.
    public init(status: HTTPResponse.Status, message: String, type: String, parameter: String? = nil, code: String? = nil,
                retryAfter: Int? = nil) {
        self.init(statusCode: status.code, message: message, type: type, parameter: parameter, code: code, retryAfter: retryAfter)
    }

    /// The HTTP status.
    public var status: HTTPResponse.Status {
        get { HTTPResponse.Status(code: statusCode) }
        set { statusCode = newValue.code }
    }

    /// The error as a response.
    var response: Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        if let retryAfter { fields[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
