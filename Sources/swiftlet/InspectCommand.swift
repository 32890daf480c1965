import ArgumentParser
import Swiftlet

/// `swiftlet inspect --model PATH`: architecture, shapes, tensor types, vocabulary size.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a checkpoint's architecture, tensor shapes and types, and size.")

    @Option(name: .long, help: "Path to a GGUF or llama2.c checkpoint.")
    var model: String

    func run() throws {
        let file = try GGUFFile(path: model)
        print("format: GGUF v\(file.version)")
        for t in file.tensors {
            print("  \(t.name) \(t.dimensions) \(t.type.name)")
        }
    }
}
