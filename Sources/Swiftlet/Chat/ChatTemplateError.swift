/// An error while parsing or rendering a chat template, with the template line it comes from.
public struct ChatTemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Kind: String, Sendable {
        /// The template does not parse.
        case syntax
        /// The template called `raise_exception(message)`; `message` is its argument.
        case raised
        /// An undefined value was used where a value is needed (attribute, call, arithmetic).
        case undefined
        /// An operation on values of the wrong type.
        case type
        /// A `TemplateLimits` cap was reached.
        case limit
        /// The sandbox refused an operation (mutating a list or dictionary, unsupported tag).
        case security
    }

    /// The kind of failure.
    public var kind: Kind
    /// A human-readable explanation (for `.raised`, exactly the template's message).
    public var message: String
    /// The 1-based template line, or 0 when unknown.
    public var line: Int

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, line: Int) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    /// "chat template line N: message" (or without the line when it is unknown).
    public var description: String {
        line > 0 ? "chat template line \(line): \(message)" : "chat template: \(message)"
    }
}

/// An error raised below the statement level before its line is known.
struct TemplateFailure: Error {
    var kind: ChatTemplateError.Kind
    var message: String
    init(_ kind: ChatTemplateError.Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
