import Foundation
import Hummingbird
import Swiftlet

/// `GET /v1/models` (the one served model) and `GET /health`.
struct ModelsEndpoint: Sendable {
    let engine: Engine
    let configuration: ServerConfiguration
    let created: Int

    func models() -> Response {
        let model: JSONValue = .object([
            "id": .string(configuration.modelName), "object": .string("model"), "created": .integer(Int64(created)),
            "owned_by": .string("swiftlet"), "max_model_len": .integer(Int64(engine.maxContext)),
        ])
        return jsonResponse(JSONValue.object(["object": .string("list"), "data": .array([model])]))
    }

    /// 200 once the model is loaded (the server only listens after that).
    func health() -> Response {
        jsonResponse(JSONValue.object(["status": .string("ok")]))
    }
}

/// A 200 JSON response.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: encodeJSON(value))))
}
