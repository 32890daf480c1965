/// A `POST /v1/chat/completions` body.
///
/// `messages` is a non-empty array of `{"role": ..., "content": ...}` where content is a
/// string, null, or an array of parts of which only `{"type": "text", "text": ...}` is
/// accepted (the model reads text only). Roles: `system`, `developer` (read as system),
/// `user`, `assistant`, `tool`. Tools, functions and response formats are not supported and
/// are rejected when given; unknown fields are ignored.
public struct ChatCompletionRequest: Sendable, Equatable {
    /// One turn, as the template sees it.
    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String

        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    public var messages: [Message]
    public var fields: SamplingFields

    public static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]
    public static let maxMessages = 4096

    /// Reads a request body.
    /// - Throws: `APIError` (400) for a missing or malformed `messages`, wrong types or
    ///   out-of-range values.
    public init(json: JSONValue) throws {
        let reader = try FieldReader(json)
        guard let value = reader.value("messages") else {
            throw APIError.badRequest("the request needs messages", parameter: "messages")
        }
        guard case .array(let items) = value else { throw reader.mismatch("messages", "an array of messages", value) }
        guard !items.isEmpty else { throw APIError.badRequest("messages is empty", parameter: "messages") }
        guard items.count <= Self.maxMessages else {
            throw APIError.badRequest("messages has \(items.count) entries; at most \(Self.maxMessages)", parameter: "messages")
        }
        messages = try items.enumerated().map { index, item in try Self.message(item, index: index) }
        for name in ["tools", "functions", "tool_choice", "function_call"] where reader.value(name) != nil {
            if name == "tool_choice", try reader.string(name) == "none" { continue }
            throw APIError.badRequest("\(name) is not supported", parameter: name)
        }
        if let format = try reader.object("response_format"), let type = try format.string("type"), type != "text" {
            throw APIError.badRequest("response_format \(type) is not supported", parameter: "response_format")
        }
        fields = try SamplingFields(reader, logprobsIsCount: false)
    }

    private static func message(_ value: JSONValue, index: Int) throws -> Message {
        let path = "messages[\(index)]"
        guard case .object = value else {
            throw APIError.badRequest("\(path) must be an object, not \(value.typeName)", parameter: path)
        }
        let reader = try FieldReader(value, path: path + ".")
        guard let role = try reader.string("role") else {
            throw APIError.badRequest("\(path).role is missing", parameter: path + ".role")
        }
        guard roles.contains(role) else {
            throw APIError.badRequest("\(path).role '\(role)' is not one of \(roles.sorted().joined(separator: ", "))", parameter: path + ".role")
        }
        let content: String
        switch reader.value("content") {
        case nil: content = ""
        case .string(let text)?: content = text
        case .array(let parts)?:
            content = try parts.enumerated().map { partIndex, part -> String in
                let partPath = "\(path).content[\(partIndex)]"
                let partReader = try FieldReader(part, path: partPath + ".")
                guard try partReader.string("type") == "text", let text = try partReader.string("text") else {
                    throw APIError.badRequest("\(partPath) must be {\"type\": \"text\", \"text\": ...}: only text content is supported", parameter: partPath)
                }
                return text
            }.joined()
        case let other?: throw reader.mismatch("content", "a string or an array of content parts", other)
        }
        return Message(role: role == "developer" ? "system" : role, content: content)
    }
}
