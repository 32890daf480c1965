import ArgumentParser
import Foundation
import Swiftlet
import SwiftletServer

/// `swiftlet serve`: an OpenAI-compatible HTTP server over one engine.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over an OpenAI-compatible HTTP API (completions, chat, models, health, metrics, a chat page at /).")

    @OptionGroup var engine: EngineOptions

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one; the port is printed).")
    var port: Int = 8080

    @Option(name: .long, help: "Require Authorization: Bearer KEY on /v1/* requests.")
    var apiKey: String?

    @Option(name: .long, help: "Requests that may wait beyond the running slots (--max-sequences); more get 429.")
    var maxQueue: Int = 256

    @Option(name: .long, help: "Largest request body, in bytes (413 past it).")
    var maxBodyBytes: Int = 4 << 20

    @Option(name: [.long, .customShort("a"), .customLong("alias")], help: "Model id in responses (default: the model file's name without extension).")
    var servedModelName: String?

    @Option(name: .long, help: "Seconds running requests may take to finish after SIGTERM.")
    var shutdownDeadline: Double = 30

    @Option(name: [.long, .customLong("chat-template-file")], help: "A Jinja chat template file (default: the model's tokenizer.chat_template, else a built-in one).")
    var chatTemplate: String?

    @Option(name: .long, help: "Most draft tokens per step with --draft-model or --draft ngram.")
    var draftTokens: Int = 4

    @Option(name: .long, help: "Directory for /v1/files and /v1/batches (created; survives restarts, unfinished batches resume). Default: a temporary one.")
    var dataDir: String?

    @Flag(name: .long, help: "Schedule first come, first served: batch lines get no lower priority than interactive requests.")
    var fcfs = false

    @Option(name: .long, help: "Most tokens batch lines get in a step while interactive requests are served (with priorities).")
    var batchTokensBesideInteractive: Int = 16

    @Option(name: .customLong("interactive-window-ms"), help: "Milliseconds batch lines stay capped after the last interactive request left (0 = only while one runs).")
    var interactiveWindowMilliseconds: Int = 1000

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be at least 0") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard shutdownDeadline >= 0 else { throw ValidationError("--shutdown-deadline must be at least 0") }
        guard (1...64).contains(draftTokens) else { throw ValidationError("--draft-tokens must be between 1 and 64") }
        try FlagRange.check(batchTokensBesideInteractive, "--batch-tokens-beside-interactive", EngineConfiguration.maxBatchTokensRange)
        try FlagRange.check(interactiveWindowMilliseconds, "--interactive-window-ms", EngineConfiguration.interactiveWindowMillisecondsRange)
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty") }
    }

    func run() async throws {
        let templateFile = try chatTemplate.map { try String(contentsOfFile: $0, encoding: .utf8) }
        if let dataDir {
            do { try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true) } catch {
                throw ValidationError("--data-dir '\(dataDir)' cannot be created: \(error.localizedDescription)")
            }
        }
        let path = try engine.modelPath()
        let (fcfs, batchTokens, window) = (self.fcfs, batchTokensBesideInteractive, interactiveWindowMilliseconds)
        let (engine, model) = try self.engine.makeEngine {
            $0.maxDraftTokens = draftTokens
            $0.priorityScheduling = !fcfs
            $0.batchTokensBesideInteractive = batchTokens
            $0.interactiveWindowMilliseconds = window
        }
        let template = templateFile ?? SwiftletServer.chatTemplate(of: model)
        let name = servedModelName ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let server = SwiftletServer(
            engine: engine,
            configuration: ServerConfiguration(host: host, port: port, apiKey: apiKey, maxQueue: maxQueue, maxBodyBytes: maxBodyBytes,
                                               modelName: name, shutdownDeadlineSeconds: shutdownDeadline, dataDirectory: dataDir),
            chatTemplate: template)
        let host = self.host
        try await server.run { port in
            printError("swiftlet serve: \(name) on http://\(host):\(port) (context \(engine.maxContext), \(engine.configuration.maxSequences) running slots)")
        }
        printError("swiftlet serve: stopped accepting; shutting the engine down")
        engine.shutdown()
        engine.waitUntilStopped()
    }
}
