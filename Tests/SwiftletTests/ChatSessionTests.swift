import Foundation
import Testing
@testable import Swiftlet
#if canImport(Glibc)
import Glibc
#endif

/// `swiftlet chat` (issue 13): the history it keeps, and a session in a pseudo-terminal.
@Suite("Chat session")
struct ChatSessionTests {
    @Test func conversationDropsTheOldestTurnsFirst() {
        var conversation = ChatConversation(system: "Be brief.")
        for i in 0..<3 {
            conversation.append(ChatMessage(role: "user", content: "q\(i)"))
            conversation.append(ChatMessage(role: "assistant", content: "a\(i)"))
        }
        conversation.append(ChatMessage(role: "user", content: "q3"))
        #expect(conversation.messages.count == 8 && conversation.messages[0].role == "system")
        // Room for the system message and three messages: two turns go, a user message first.
        let dropped = conversation.fit { $0.count <= 4 }
        #expect(dropped == 4)
        #expect(conversation.messages.map(\.content) == ["Be brief.", "q2", "a2", "q3"])
        // The newest message is never dropped, even when it alone does not fit.
        #expect(conversation.fit { _ in false } == 2)
        #expect(conversation.messages.map(\.content) == ["Be brief.", "q3"])
        conversation.reset()
        #expect(conversation.messages == [ChatMessage(role: "system", content: "Be brief.")])
    }

    /// Two turns with the shipped model (no template, so the ChatML default), `/reset`, then
    /// Ctrl-D, typed into a pseudo-terminal as a user would.
    @Test func twoTurnsResetAndControlDInATerminal() throws {
        let terminal = try PseudoTerminal(arguments: ["chat", "-m", PackageFiles.path("Models/shakespeare-target.gguf"),
                                                      "-n", "12", "--temp", "0", "-t", "2"])
        defer { terminal.close() }
        try terminal.read(until: "built-in ChatML template")
        try terminal.read(until: "> ")
        terminal.type("ROMEO:\n")
        let first = try terminal.read(until: "tok/s")
        try terminal.read(until: "> ")
        terminal.type("JULIET:\n")
        let second = try terminal.read(until: "tok/s")
        try terminal.read(until: "> ")
        terminal.type("/reset\n")
        try terminal.read(until: "(history cleared)")
        try terminal.read(until: "> ")
        terminal.type("ROMEO:\n")
        let third = try terminal.read(until: "tok/s")
        try terminal.read(until: "> ")
        // The second prompt carries the first turn; after /reset the prompt is the first one again.
        let (p1, p2, p3) = (Self.promptTokens(first), Self.promptTokens(second), Self.promptTokens(third))
        #expect(p1 > 0 && p2 > p1 + 12 && p3 == p1, "prompt tokens \(p1), \(p2), \(p3)")
        // Greedy: the same prompt gives the same reply.
        #expect(Self.reply(first) == Self.reply(third) && !Self.reply(first).isEmpty, "\(first) / \(third)")
        terminal.type("\u{04}")
        #expect(try terminal.waitForExit(seconds: 20) == 0)
    }

    /// Without a terminal (lines piped in): a context too small for the history drops the
    /// oldest turn with a note, `/exit` ends the session, and a model's own template is used.
    @Test func fullContextDropsTheOldestTurnWithANote() throws {
        let run = try runSwiftlet(["chat", "-m", PackageFiles.path("Models/shakespeare-target.gguf"), "-c", "96", "-n", "8", "--temp", "0",
                                   "--system", "You are Hamlet."],
                                  input: "ROMEO:\nJULIET: what say you?\n/exit\nnever read\n")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.components(separatedBy: "tok/s").count == 3, "\(run.stderr)")
        #expect(run.stderr.contains("the context of 96 tokens is full: dropped the oldest 2 messages"), "\(run.stderr)")
        #expect(!run.stdout.contains("> "))
    }

    @Test(.enabled(if: SharedFixtures.available, SharedFixtures.skipMessage))
    func chatUsesTheModelsTemplateAndItsEndOfTurn() throws {
        let folder = try HostileInput.folder("chat-template")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try ChatCommandLineTests.gemmaTemplateModel(in: folder)
        let run = try runSwiftlet(["chat", "-m", model, "-n", "4", "--temp", "0"], input: "the tea\nan ode\n")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("the model's template"), "\(run.stderr)")
        #expect(run.stderr.components(separatedBy: "tok/s").count == 3, "\(run.stderr)")
        // The template refuses a system message: one error line, and the session goes on to EOF.
        let refused = try runSwiftlet(["chat", "-m", model, "--system", "x", "-n", "2"], input: "hi\n")
        #expect(refused.status == 0 && refused.stderr.contains("System role not supported"), "\(refused.stderr)")
    }

    /// The prompt token count of a reply's stats line, "(N tokens, X tok/s, prompt P tokens)".
    static func promptTokens(_ text: String) -> Int {
        guard let range = text.range(of: "prompt ", options: .backwards) else { return -1 }
        return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }

    /// The reply text: what came after the typed line's echo, before the stats line.
    static func reply(_ text: String) -> String {
        let afterEcho = text.components(separatedBy: "\n").dropFirst()
        return afterEcho.prefix { !$0.contains("tok/s") }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The `swiftlet` binary run on a pseudo-terminal (stdin, stdout and stderr), driven by
/// writing keystrokes to the master side.
final class PseudoTerminal {
    private let master: Int32
    private let process = Process()
    private var buffer = ""

    init(arguments: [String]) throws {
        // posix_openpt and friends are not in Swift's Glibc module; their Linux spelling is
        // /dev/ptmx with two ioctls (the numbers are the same on x86-64 and arm64).
        let unlockPTY: UInt = 0x4004_5431   // TIOCSPTLCK
        let ptyNumber: UInt = 0x8004_5430   // TIOCGPTN
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var locked: CInt = 0
        var number: CUnsignedInt = 0
        guard master >= 0, ioctl(master, unlockPTY, &locked) == 0, ioctl(master, ptyNumber, &number) == 0 else {
            throw POSIXError(.ENXIO)
        }
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw POSIXError(.ENXIO) }
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        process.executableURL = directory.appendingPathComponent("swiftlet")
        process.arguments = arguments
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Sends `text` as typed keys.
    func type(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
    }

    /// Reads until `marker` appears (or `seconds` pass: then throws), and returns what came
    /// before it and the marker; the rest stays buffered.
    @discardableResult
    func read(until marker: String, seconds: Double = 120) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let range = buffer.range(of: marker) {
                let text = String(buffer[..<range.upperBound])
                buffer.removeSubrange(..<range.upperBound)
                return text
            }
            guard Date() < deadline else { throw TerminalTimeout(marker: marker, seen: buffer) }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = Glibc.read(master, &chunk, chunk.count)
            if count > 0 {
                buffer += String(decoding: chunk[..<count], as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            } else {
                usleep(20_000)
            }
        }
    }

    /// The exit status once the process ends (throws after `seconds`).
    func waitForExit(seconds: Double) throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            guard Date() < deadline else { throw TerminalTimeout(marker: "exit", seen: buffer) }
            _ = try? read(until: "\u{0}", seconds: 0.05)
        }
        return process.terminationStatus
    }

    func close() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        Glibc.close(master)
    }

    struct TerminalTimeout: Error, CustomStringConvertible {
        let marker: String
        let seen: String
        var description: String { "no '\(marker)' in the terminal; it shows: \(seen.suffix(2000))" }
    }
}
