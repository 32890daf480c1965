import Foundation
import Hummingbird

/// `GET /`: the chat page, one self-contained HTML file (`Resources/chat.html`) that streams
/// replies from `/v1/chat/completions`.
struct ChatPage: Sendable {
    let html: ByteBuffer

    init() {
        let url = Bundle.module.url(forResource: "chat", withExtension: "html")
        let data = url.flatMap { try? Data(contentsOf: $0) } ?? Data("<!doctype html><p>chat page missing</p>".utf8)
        html = ByteBuffer(bytes: data)
    }

    func handle() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: html))
    }
}
