import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Swiftlet
import UnixSignals

/// An OpenAI-compatible HTTP server over an `Engine` (Hummingbird 2).
///
/// Routes: `POST /v1/completions`, `POST /v1/chat/completions`, `GET /v1/models`,
/// `GET /health`, `GET /metrics` (Prometheus text), `GET /` (a chat page). Errors are
/// OpenAI-style JSON bodies.
///
/// ```swift
/// let engine = try Engine(model: ModelLoader.load(path: "Models/shakespeare-target.gguf"))
/// let server = SwiftletServer(engine: engine, configuration: ServerConfiguration(port: 8080))
/// try await server.run()   // until SIGTERM or SIGINT
/// engine.shutdown()
/// ```
public struct SwiftletServer: Sendable {
    public let engine: Engine
    public let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let admission: Admission
    let chat: ChatEndpoint

    /// - Parameter chatTemplate: Jinja source of the chat template (see
    ///   `chatTemplate(of:)` for a model's own); nil, or one that does not parse, uses
    ///   `ChatTemplate.defaultTemplate` (ChatML).
    public init(engine: Engine, configuration: ServerConfiguration = ServerConfiguration(), chatTemplate: String? = nil) {
        self.engine = engine
        self.configuration = configuration
        metrics = ServerMetrics(modelName: configuration.modelName)
        admission = Admission(limit: engine.configuration.maxSequences + configuration.maxQueue)
        chat = ChatEndpoint(engine: engine, configuration: configuration, templateSource: chatTemplate)
    }

    /// The model's own chat template (GGUF `tokenizer.chat_template`), if it has one.
    public static func chatTemplate(of model: LoadedModel) -> String? {
        ChatPrompt.templateSource(of: model)
    }

    /// The router with every endpoint and the error and API-key middleware.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        if let key = configuration.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
        let responder = GenerationResponder(engine: engine, configuration: configuration, admission: admission, metrics: metrics)
        let completions = CompletionsEndpoint(engine: engine, configuration: configuration, responder: responder)
        let chat = self.chat
        let models = ModelsEndpoint(engine: engine, configuration: configuration, created: Int(Date().timeIntervalSince1970))
        let metricsEndpoint = MetricsEndpoint(engine: engine, metrics: metrics)
        let page = ChatPage()
        router.post("/v1/completions") { request, _ in try await completions.handle(request) }
        router.post("/v1/chat/completions") { request, _ in try await chat.handle(request, responder: responder) }
        router.get("/v1/models") { _, _ in models.models() }
        router.get("/health") { _, _ in models.health() }
        router.get("/metrics") { _, _ in metricsEndpoint.handle() }
        router.get("/") { _, _ in page.handle() }
        return router
    }

    /// Serves until one of `gracefulShutdownSignals` arrives or the task is cancelled. On a
    /// signal it stops accepting connections, lets running requests finish for up to
    /// `configuration.shutdownDeadlineSeconds`, cancels what is left, and returns. It does not
    /// shut the engine down.
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public func run(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
                    onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "swiftlet.server")
        logger.logLevel = .warning
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "swiftlet"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: gracefulShutdownSignals,
                                              cancellationSignals: [], logger: logger)
        group.maximumGracefulShutdownDuration = .milliseconds(Int64(configuration.shutdownDeadlineSeconds * 1000))
        do {
            try await ServiceGroup(configuration: group).run()
        } catch is CancellationError {
        }
    }
}
