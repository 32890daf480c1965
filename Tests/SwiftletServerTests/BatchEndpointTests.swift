import Foundation
import Testing
@testable import Swiftlet
@testable import SwiftletServer

/// `/v1/files` and `/v1/batches`: upload, run, poll, download, cancel, bad input, and a
/// restart in the middle of a batch.
@Suite struct BatchEndpointTests {
    static func dataDirectory(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-batch-api-\(name)-\(getpid())").path
    }

    /// A multipart body with a `purpose` field and a `file` part.
    static func upload(_ content: String, purpose: String = "batch", boundary: String = "b0undary") -> (Data, [String: String]) {
        var body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n\(purpose)\r\n"
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
        body += "Content-Type: application/octet-stream\r\n\r\n\(content)\r\n--\(boundary)--\r\n"
        return (Data(body.utf8), ["Content-Type": "multipart/form-data; boundary=\(boundary)"])
    }

    static func lines(_ count: Int, maxTokens: Int = 3) -> String {
        (0..<count).map { i in
            i % 5 == 4
                ? "{\"custom_id\": \"r\(i)\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"x\", \"top_p\": 3}}"
                : "{\"custom_id\": \"r\(i)\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"ROMEO \(i):\", \"max_tokens\": \(maxTokens), \"temperature\": 0}}"
        }.joined(separator: "\n")
    }

    func waitFor(_ server: TestServer, batch id: String, seconds: Double = 120, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var json: [String: Any] = [:]
        while Date() < deadline {
            json = try await server.get("/v1/batches/\(id)").json
            if done(json) { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return json
    }

    func records(_ server: TestServer, _ batch: [String: Any]) async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        for key in ["output_file_id", "error_file_id"] {
            guard let id = batch[key] as? String else { continue }
            let text = try await server.get("/v1/files/\(id)/content").text
            all += text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        return all
    }

    @Test func aBatchRunsAndItsOutputMatchesTheCompletionsEndpoint() async throws {
        let directory = Self.dataDirectory("flow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await TestServer(configuration: ServerConfiguration(port: 0, dataDirectory: directory))
        do {
            let (body, headers) = Self.upload(Self.lines(10))
            let file = try await server.request("POST", "/v1/files", body: body, headers: headers)
            #expect(file.status == 200, "\(file.text)")
            let fileID = try #require(file.json["id"] as? String)
            #expect(try await server.get("/v1/files/\(fileID)").json["purpose"] as? String == "batch")
            #expect(try await server.get("/v1/files/\(fileID)/content").text == Self.lines(10) + "")

            let created = try await server.post("/v1/batches", "{\"input_file_id\": \"\(fileID)\", \"endpoint\": \"/v1/completions\", \"completion_window\": \"24h\"}")
            #expect(created.status == 200, "\(created.text)")
            let batchID = try #require(created.json["id"] as? String)
            let batch = try await waitFor(server, batch: batchID) { ($0["status"] as? String) == "completed" }
            #expect(batch["status"] as? String == "completed")
            let counts = batch["request_counts"] as? [String: Int]
            #expect(counts == ["total": 10, "completed": 8, "failed": 2])
            let records = try await records(server, batch)
            #expect(Set(records.compactMap { $0["custom_id"] as? String }) == Set((0..<10).map { "r\($0)" }))
            for record in records {
                let id = record["custom_id"] as! String
                let index = Int(id.dropFirst())!
                if index % 5 == 4 {
                    #expect((record["error"] as? [String: Any])?["message"] as? String != nil)
                    continue
                }
                let response = try #require(record["response"] as? [String: Any])
                #expect(response["status_code"] as? Int == 200)
                let text = ((response["body"] as? [String: Any])?["choices"] as? [[String: Any]])?.first?["text"] as? String
                let direct = try await server.post("/v1/completions", "{\"prompt\": \"ROMEO \(index):\", \"max_tokens\": 3, \"temperature\": 0}")
                #expect(text == ((direct.json["choices"] as? [[String: Any]])?.first?["text"] as? String), "\(id)")
            }
            let list = try await server.get("/v1/batches?limit=2").json
            #expect((list["data"] as? [[String: Any]])?.first?["id"] as? String == batchID)
        }
        await server.stop()
    }

    @Test func badInputIsA4xx() async throws {
        let directory = Self.dataDirectory("bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await TestServer(configuration: ServerConfiguration(port: 0, dataDirectory: directory))
        let (body, headers) = Self.upload(Self.lines(2))
        let fileID = try await server.request("POST", "/v1/files", body: body, headers: headers).json["id"] as! String
        let cases: [(String, String, Data?, [String: String], Int)] = [
            ("POST", "/v1/files", Data("{}".utf8), [:], 400),
            ("POST", "/v1/files", Self.upload("x", purpose: "fine-tune").0, Self.upload("x").1, 400),
            ("POST", "/v1/files", Data("--b0undary\r\nbroken".utf8), Self.upload("x").1, 400),
            ("GET", "/v1/files/file-../../etc/passwd", nil, [:], 404),
            ("GET", "/v1/files/file-0123", nil, [:], 404),
            ("GET", "/v1/files/file-0123/content", nil, [:], 404),
            ("POST", "/v1/batches", Data("{\"input_file_id\": \"\(fileID)\", \"endpoint\": \"/v1/embeddings\", \"completion_window\": \"24h\"}".utf8), [:], 400),
            ("POST", "/v1/batches", Data("{\"input_file_id\": \"\(fileID)\", \"endpoint\": \"/v1/completions\", \"completion_window\": \"1h\"}".utf8), [:], 400),
            ("POST", "/v1/batches", Data("{\"input_file_id\": 3}".utf8), [:], 400),
            ("POST", "/v1/batches", Data("[]".utf8), [:], 400),
            ("GET", "/v1/batches/batch_nope", nil, [:], 404),
            ("POST", "/v1/batches/batch_nope/cancel", nil, [:], 404),
            ("GET", "/v1/batches?limit=0", nil, [:], 400),
        ]
        for (method, path, body, headers, status) in cases {
            let reply = try await server.request(method, path, body: body, headers: headers)
            #expect(reply.status == status, "\(method) \(path): \(reply.status) \(reply.text)")
            #expect(reply.errorMessage != nil, "\(method) \(path)")
        }
        await server.stop()
    }

    @Test func cancelStopsABatchAndARestartResumesOneWithoutRerunningLines() async throws {
        let directory = Self.dataDirectory("restart")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Enough work that the batch cannot finish between the poll for 10 lines and the stop:
        // 60 lines of 8 tokens did on a fast machine.
        let count = 400
        var server = try await TestServer(configuration: ServerConfiguration(port: 0, dataDirectory: directory))
        let (body, headers) = Self.upload(Self.lines(count, maxTokens: 16))
        let fileID = try await server.request("POST", "/v1/files", body: body, headers: headers).json["id"] as! String
        let create = "{\"input_file_id\": \"\(fileID)\", \"endpoint\": \"/v1/completions\", \"completion_window\": \"24h\"}"

        // Cancel: ends cancelled, what finished is in the output.
        let cancelID = try await server.post("/v1/batches", create).json["id"] as! String
        _ = try await server.post("/v1/batches/\(cancelID)/cancel", "")
        let cancelled = try await waitFor(server, batch: cancelID) { ($0["status"] as? String) == "cancelled" }
        #expect(cancelled["status"] as? String == "cancelled")

        // Restart mid-batch.
        let batchID = try await server.post("/v1/batches", create).json["id"] as! String
        _ = try await waitFor(server, batch: batchID) { (($0["request_counts"] as? [String: Int])?["completed"] ?? 0) >= 10 }
        await server.stop()
        let results = URL(fileURLWithPath: directory).appendingPathComponent("batches/\(batchID).results.jsonl")
        let before = try String(contentsOf: results, encoding: .utf8).split(separator: "\n").filter { $0.hasSuffix("}") }
        #expect(before.count >= 10 && before.count < count, "\(before.count)")
        #expect(try await Self.status(of: batchID, in: directory) == "in_progress")

        server = try await TestServer(configuration: ServerConfiguration(port: 0, dataDirectory: directory))
        let batch = try await waitFor(server, batch: batchID) { ($0["status"] as? String) == "completed" }
        #expect(batch["status"] as? String == "completed")
        let records = try await records(server, batch)
        let ids = records.compactMap { $0["custom_id"] as? String }
        #expect(ids.count == count && Set(ids).count == count)
        // Lines finished before the restart keep their record ids: they did not run again.
        let lineIDs = Set(records.compactMap { $0["id"] as? String })
        for line in before {
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(lineIDs.contains(record["id"] as! String))
        }
        await server.stop()
    }

    static func status(of id: String, in directory: String) async throws -> String? {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent("batches/\(id).json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["status"] as? String
    }
}
