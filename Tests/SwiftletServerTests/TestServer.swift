import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Swiftlet
@testable import SwiftletServer

/// A server on an ephemeral loopback port over the shipped Shakespeare model, and a
/// URLSession client for it.
final class TestServer: @unchecked Sendable {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelPath = packageRoot.appendingPathComponent("Models/shakespeare-target.gguf").path

    let engine: Engine
    let server: SwiftletServer
    private(set) var port = 0
    private var task: Task<Void, Error>?
    let session: URLSession

    /// Starts a server; `configure` edits the engine configuration.
    init(configuration: ServerConfiguration = ServerConfiguration(port: 0), engineConfiguration: EngineConfiguration = TestServer.smallEngine) async throws {
        let model = try ModelLoader.load(path: Self.modelPath)
        engine = try Engine(model: model, configuration: engineConfiguration)
        var configuration = configuration
        configuration.port = 0
        configuration.host = "127.0.0.1"
        server = SwiftletServer(engine: engine, configuration: configuration)
        let session = URLSessionConfiguration.ephemeral
        session.timeoutIntervalForRequest = 60
        session.httpMaximumConnectionsPerHost = 64
        self.session = URLSession(configuration: session)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = self.server
        task = Task {
            try await server.run(gracefulShutdownSignals: []) { port in continuation.yield(port) }
        }
        for await port in ports {
            self.port = port
            break
        }
    }

    static var smallEngine: EngineConfiguration {
        EngineConfiguration(threadCount: 2, maxBatchTokens: 256, maxSequences: 8, kvCacheMegabytes: 64, maxContext: 256)
    }

    /// Stops the server and the engine.
    func stop() async {
        task?.cancel()
        _ = try? await task?.value
        engine.shutdown()
        engine.waitUntilStopped()
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The error message of an OpenAI-style error body.
        var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
        /// `data:` payloads of an event stream.
        var events: [String] {
            text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        }
    }

    func request(_ method: String = "POST", _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if body != nil && headers["Content-Type"] == nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields[String(describing: name).lowercased()] = String(describing: value) }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    func post(_ path: String, _ json: String, headers: [String: String] = [:]) async throws -> Reply {
        try await request("POST", path, body: Data(json.utf8), headers: headers)
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> Reply {
        try await request("GET", path, headers: headers)
    }

    /// Waits (bounded) until the engine has no request and no KV block in use.
    /// Waits (up to `seconds`) until the engine holds no request and the HTTP side has let
    /// go of every admitted one: a request still being read or handed over counts as
    /// busy, so a loaded machine cannot make this return before the request arrives.
    func waitForIdleEngine(seconds: Double = 20) async -> EngineMetrics {
        let deadline = Date().addingTimeInterval(seconds)
        var metrics = engine.currentMetrics
        while Date() < deadline {
            metrics = engine.currentMetrics
            if metrics.runningRequests == 0 && metrics.waitingRequests == 0 && metrics.kvBlocksUsed == 0
                && server.admission.current == 0 { break }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return metrics
    }
}
