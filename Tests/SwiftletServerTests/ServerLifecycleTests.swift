import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Swiftlet
import Testing
@testable import SwiftletServer

/// Clients that go away cancel their requests; their KV blocks come back.
@Suite(.serialized) struct ServerLifecycleTests {
    /// Sends a request over a plain socket and closes it after `seconds` (URLSession's
    /// cancel may keep the connection open in its pool).
    /// With `untilRunning`, it first waits (up to 20 s) until the engine runs the request,
    /// so a loaded machine cannot make the client leave before the server has seen it.
    func abandon(_ server: TestServer, body: String, after seconds: Double, untilRunning: Bool = false) async {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { Issue.record("socket failed"); return }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(server.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { Issue.record("connect failed"); close(fd); return }
        let request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        if untilRunning {
            let deadline = Date().addingTimeInterval(20)
            while server.engine.currentMetrics.runningRequests == 0 && Date() < deadline {
                try? await Task.sleep(nanoseconds: 10_000_000)
            }
        }
        close(fd)
    }

    @Test(arguments: [true, false])
    func disconnectCancelsTheRequest(stream: Bool) async throws {
        let server = try await TestServer(engineConfiguration: EngineConfiguration(threadCount: 2, maxSequences: 8, kvCacheMegabytes: 64))
        defer { Task { await server.stop() } }
        let body = #"{"prompt": "ROMEO:", "max_tokens": 500, "ignore_eos": true, "stream": \#(stream)}"#
        await abandon(server, body: body, after: 0.3, untilRunning: true)
        let metrics = await server.waitForIdleEngine()
        #expect(metrics.requestsCancelled == 1, "the request ran on after its client left")
        #expect(metrics.kvBlocksUsed == 0)
        #expect(server.server.admission.current == 0)
    }

    @Test func manyDisconnectsLeakNothing() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<24 {
                group.addTask {
                    await self.abandon(server, body: #"{"prompt": "KING \#(i):", "max_tokens": 200, "ignore_eos": true, "stream": \#(i % 2 == 0)}"#,
                                       after: Double(i % 6) * 0.05 + 0.01)
                }
            }
        }
        let metrics = await server.waitForIdleEngine(seconds: 60)
        #expect(metrics.kvBlocksUsed == 0 && metrics.runningRequests == 0 && metrics.waitingRequests == 0)
        #expect(server.server.admission.current == 0)
        // The server still answers.
        #expect(try await server.post("/v1/completions", #"{"prompt": "a", "max_tokens": 2}"#).status == 200)
    }
}
