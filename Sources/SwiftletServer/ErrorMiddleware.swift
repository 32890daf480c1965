import Hummingbird
import Swiftlet
import NIOCore

/// Turns every error into an OpenAI-style JSON error body: `APIError` as it is, Hummingbird's
/// `HTTPError` (404 unknown path, 413 body too large, ...) with its status, anything else 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError {
            let message: String
            let type: String
            switch error.status {
            case .notFound: (message, type) = ("no route for \(request.method) \(request.uri.path)", "not_found_error")
            case .contentTooLarge: (message, type) = ("the request body is larger than the server accepts", "invalid_request_error")
            case .methodNotAllowed: (message, type) = ("\(request.method) is not allowed on \(request.uri.path)", "invalid_request_error")
            default: (message, type) = (error.body ?? error.status.reasonPhrase, error.status.code < 500 ? "invalid_request_error" : "server_error")
            }
            return APIError(status: error.status, message: message, type: type).response
        } catch is NIOTooManyBytesError {
            return APIError(status: .contentTooLarge, message: "the request body is larger than the server accepts",
                            type: "invalid_request_error").response
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("internal error: \(error)")
            return APIError(status: .internalServerError, message: "internal error", type: "server_error").response
        }
    }
}
