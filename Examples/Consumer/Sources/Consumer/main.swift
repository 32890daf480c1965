#if canImport(Glibc)
import Glibc
#endif
import Swiftlet

// Generates text with a GGUF model and prints it with the decode rate.
let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: Consumer MODEL.gguf [PROMPT]")
    exit(2)
}
let model = try ModelLoader.load(path: arguments[1])
let engine = try Engine(model: model, configuration: EngineConfiguration(threadCount: 2))
let parameters = GenerationParameters(maxTokens: 48, sampling: .greedy)
for try await event in engine.generate(prompt: .text(arguments.count > 2 ? arguments[2] : "ROMEO:"), parameters: parameters) {
    switch event {
    case .token(_, let text), .text(let text): print(text, terminator: "")
    case .finished(let result):
        print("\n[\(result.tokens.count) tokens, \(result.metrics.decodeTokensPerSecond ?? 0) tok/s, kernels \(KernelPath.current.rawValue)]")
    }
}
