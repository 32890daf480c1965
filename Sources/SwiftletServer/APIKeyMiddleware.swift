import Hummingbird
import Swiftlet

/// Requires `Authorization: Bearer <key>` on `/v1/*` (401 otherwise); `/`, `/health` and
/// `/metrics` stay open, as in vLLM.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1") else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        guard header == "Bearer \(key)" else {
            throw APIError(status: .unauthorized,
                           message: header.isEmpty ? "missing API key: send Authorization: Bearer <key>" : "incorrect API key",
                           type: "authentication_error", code: "invalid_api_key")
        }
        return try await next(request, context)
    }
}
