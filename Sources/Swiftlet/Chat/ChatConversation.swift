/// The history of an interactive chat: an optional system message, then the turns (user
/// messages and the replies to them), kept within the model's context by dropping the
/// oldest turns.
public struct ChatConversation: Sendable, Equatable {
    /// The system message every prompt starts with, if any; never dropped.
    public let system: String?
    /// User messages and replies, oldest first.
    public private(set) var turns: [ChatMessage] = []

    /// Starts an empty conversation.
    public init(system: String? = nil) {
        self.system = system
    }

    /// The system message (when there is one) followed by the turns: what the template renders.
    public var messages: [ChatMessage] {
        (system.map { [ChatMessage(role: "system", content: $0)] } ?? []) + turns
    }

    /// Appends a message (role "user" or "assistant").
    public mutating func append(_ message: ChatMessage) {
        turns.append(message)
    }

    /// Forgets every turn; the system message stays.
    public mutating func reset() {
        turns.removeAll()
    }

    /// Removes the last message (a user message whose reply could not be made).
    public mutating func removeLast() {
        if !turns.isEmpty { turns.removeLast() }
    }

    /// Drops the oldest turns (a user message and the replies after it) until `fits` accepts
    /// `messages`, keeping at least the newest message. Returns how many messages were
    /// dropped; `fits` may still refuse what is left (a single message longer than the context).
    public mutating func fit(_ fits: ([ChatMessage]) throws -> Bool) rethrows -> Int {
        var dropped = 0
        while turns.count > 1, try !fits(messages) {
            var end = 1
            while end < turns.count - 1 && turns[end].role != "user" { end += 1 }
            turns.removeFirst(end)
            dropped += end
        }
        return dropped
    }
}
