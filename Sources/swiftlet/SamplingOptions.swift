import ArgumentParser
import Swiftlet

/// Sampling flags shared by `generate` and `batch` (llama.cpp's defaults).
struct SamplingOptions: ParsableArguments {
    @Option(name: [.long, .customShort("n"), .customLong("n-predict")], help: "Most tokens to generate.")
    var maxTokens: Int = 128

    @Option(name: [.long, .customLong("temp")], help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0.8

    @Option(name: .long, help: "Keep the K most likely tokens (0 = off).")
    var topK: Int = 40

    @Option(name: .long, help: "Nucleus sampling mass (1 = off).")
    var topP: Float = 0.95

    @Option(name: .long, help: "Drop tokens below this fraction of the best one's probability (0 = off).")
    var minP: Float = 0.05

    @Option(name: .long, help: "Repetition penalty over the last 64 tokens (1 = off).")
    var repeatPenalty: Float = 1.0

    @Option(name: [.long, .customShort("s")], help: "Random seed (default: random).")
    var seed: UInt64?

    @Flag(name: .long, help: "Keep generating past end-of-generation tokens.")
    var ignoreEos = false

    func validate() throws {
        try FlagRange.check(maxTokens, "--max-tokens", FlagRange.tokens)
        do { try parameters.validate() } catch { throw ValidationError("\(error)") }
    }

    /// The sampling parameters the flags describe.
    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                           repetitionPenalty: repeatPenalty, seed: seed)
    }
}
