import Foundation

/// Parsing and rendering recurse once per nesting level (macro calls, nested blocks and
/// parentheses, each capped by `TemplateLimits` and the parser). To make those caps safe
/// whatever thread the caller is on (a 512 KiB secondary thread, a debug build with large
/// frames), the work runs on a thread of its own with a generous stack; only the pages it
/// touches are ever committed.
enum TemplateStack {
    static let stackSize = 128 << 20

    private final class Box<T>: @unchecked Sendable {
        var result: Result<T, Error>?
    }

    /// Key of the thread-dictionary entry that marks a thread with such a stack.
    private static let marker = "swiftlet.template-stack"

    /// Marks the current thread as having a stack of at least `stackSize` bytes, so `run`
    /// works on it directly (a thread `run` started, or a caller's own big-stack worker).
    static func markCurrentThread() {
        Thread.current.threadDictionary[marker] = true
    }

    static func run<T>(_ body: @escaping () throws -> T) throws -> T {
        if Thread.current.threadDictionary[marker] != nil { return try body() }
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            markCurrentThread()
            box.result = Result { try body() }
            done.signal()
        }
        thread.stackSize = stackSize
        thread.start()
        done.wait()
        return try box.result!.get()
    }
}
