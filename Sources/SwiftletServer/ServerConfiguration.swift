/// How `SwiftletServer` listens and admits requests.
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback by default.
    public var host: String
    /// Port to bind; 0 picks a free one (see `SwiftletServer.run(onListening:)`).
    public var port: Int
    /// When set, `/v1/*` requests need `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Requests allowed to wait beyond the engine's running slots (`maxSequences`); past
    /// that, new requests get 429 with `Retry-After`. Each choice (`n`) counts as a request.
    public var maxQueue: Int
    /// Largest request body accepted (413 past it).
    public var maxBodyBytes: Int
    /// The model's id in responses and `/v1/models`.
    public var modelName: String
    /// After SIGTERM, how long running requests may take to finish before they are cancelled.
    public var shutdownDeadlineSeconds: Double
    /// `Retry-After` seconds sent with 429.
    public var retryAfterSeconds: Int
    /// Where `/v1/files` and `/v1/batches` keep their files and batch state (survives a
    /// restart: unfinished batches resume); nil = a fresh temporary directory.
    public var dataDirectory: String?
    /// Largest file `POST /v1/files` accepts.
    public var maxFileBytes = 256 << 20

    public init(host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, maxQueue: Int = 256,
                maxBodyBytes: Int = 4 << 20, modelName: String = "swiftlet", shutdownDeadlineSeconds: Double = 30,
                retryAfterSeconds: Int = 1, dataDirectory: String? = nil) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maxQueue = maxQueue
        self.maxBodyBytes = maxBodyBytes
        self.modelName = modelName
        self.shutdownDeadlineSeconds = shutdownDeadlineSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }
}
