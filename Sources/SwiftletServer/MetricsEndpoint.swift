import Hummingbird
import Swiftlet

/// `GET /metrics`: Prometheus text exposition (see `ServerMetrics` for the names).
struct MetricsEndpoint: Sendable {
    let engine: Engine
    let metrics: ServerMetrics

    func handle() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        let text = metrics.exposition(engine: engine.currentMetrics)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
