import Foundation
import Hummingbird
import Swiftlet

/// `/v1/files` and `/v1/batches` (OpenAI's Batch API): upload a JSONL file of requests,
/// create a batch over it, poll it, cancel it, download its output.
struct BatchEndpoints: Sendable {
    let service: BatchService
    let configuration: ServerConfiguration

    var store: BatchStore { service.store }

    func add(to router: Router<BasicRequestContext>) {
        router.post("/v1/files") { request, _ in try await uploadFile(request) }
        router.get("/v1/files/:id") { _, context in
            jsonResponse(try file(context.parameters.get("id") ?? ""))
        }
        router.get("/v1/files/:id/content") { _, context in try fileContent(context.parameters.get("id") ?? "") }
        router.post("/v1/batches") { request, _ in try await createBatch(request) }
        router.get("/v1/batches") { request, _ in try listBatches(request) }
        router.get("/v1/batches/:id") { _, context in jsonResponse(try batch(context.parameters.get("id") ?? "")) }
        router.post("/v1/batches/:id/cancel") { _, context in jsonResponse(try service.cancel(context.parameters.get("id") ?? "")) }
    }

    /// `POST /v1/files`: multipart with `purpose=batch` and a `file` part.
    func uploadFile(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxFileBytes)
        let form = try MultipartForm(body: Data(body.readableBytesView), contentType: request.headers[.contentType])
        guard let purpose = form.part("purpose").map({ String(decoding: $0.data, as: UTF8.self) }) else {
            throw APIError.badRequest("the upload needs a purpose field", parameter: "purpose")
        }
        guard purpose == "batch" else {
            throw APIError.badRequest("purpose must be batch, not \(purpose)", parameter: "purpose")
        }
        guard let file = form.part("file") else { throw APIError.badRequest("the upload needs a file part", parameter: "file") }
        guard !file.data.isEmpty else { throw APIError.badRequest("the file is empty", parameter: "file") }
        guard String(data: file.data, encoding: .utf8) != nil else {
            throw APIError.badRequest("the file is not UTF-8 text (JSONL expected)", parameter: "file")
        }
        let name = String((file.filename ?? "upload.jsonl").prefix(255))
        return jsonResponse(try store.createFile(named: name, purpose: purpose, content: file.data))
    }

    func file(_ id: String) throws -> StoredFile {
        guard let file = store.file(id) else { throw APIError.notFound("no file with id '\(id)'") }
        return file
    }

    /// `GET /v1/files/{id}/content`: the bytes as uploaded (or a batch's output).
    func fileContent(_ id: String) throws -> Response {
        guard let data = store.content(ofFile: id) else { throw APIError.notFound("no file with id '\(id)'") }
        var headers = HTTPFields()
        headers[.contentType] = "application/jsonl"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `POST /v1/batches`: `{input_file_id, endpoint, completion_window, metadata?}`.
    func createBatch(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        let reader = try FieldReader(JSONValue.parse(Data(body.readableBytesView)))
        guard let input = try reader.string("input_file_id") else {
            throw APIError.badRequest("the request needs input_file_id", parameter: "input_file_id")
        }
        guard let endpoint = try reader.string("endpoint") else {
            throw APIError.badRequest("the request needs endpoint", parameter: "endpoint")
        }
        guard let window = try reader.string("completion_window") else {
            throw APIError.badRequest("the request needs completion_window", parameter: "completion_window")
        }
        var metadata: [String: String]?
        if let value = reader.value("metadata") {
            guard case .object(let fields) = value, fields.count <= 16 else {
                throw APIError.badRequest("metadata must be an object of at most 16 strings", parameter: "metadata")
            }
            metadata = try fields.mapValues { item in
                guard case .string(let text) = item, text.count <= 512 else {
                    throw APIError.badRequest("metadata values must be strings of at most 512 characters", parameter: "metadata")
                }
                return text
            }
        }
        return jsonResponse(try service.create(inputFileID: input, endpoint: endpoint, completionWindow: window, metadata: metadata))
    }

    func batch(_ id: String) throws -> StoredBatch {
        guard let batch = store.batch(id) else { throw APIError.notFound("no batch with id '\(id)'") }
        return batch
    }

    /// `GET /v1/batches?limit=&after=`: newest first.
    func listBatches(_ request: Request) throws -> Response {
        var batches = store.batches()
        if let after = request.uri.queryParameters.get("after"), let index = batches.firstIndex(where: { $0.id == after }) {
            batches.removeFirst(index + 1)
        }
        var limit = 20
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...100).contains(value) else {
                throw APIError.badRequest("limit must be an integer in [1, 100], not \(text)", parameter: "limit")
            }
            limit = value
        }
        let page = Array(batches.prefix(limit))
        return jsonResponse(BatchList(data: page, first_id: page.first?.id, last_id: page.last?.id, has_more: batches.count > limit))
    }
}

/// `GET /v1/batches`'s answer.
struct BatchList: Encodable {
    var object = "list"
    var data: [StoredBatch]
    var first_id: String?
    var last_id: String?
    var has_more: Bool
}
