import Foundation
@testable import Swiftlet

/// llama.cpp's tokenizer test vectors in `../shared/fixtures/tokenizer` (beside the package
/// root), present on the project's machines and absent from a user's clone.
enum TokenizerFixtures {
    /// The package root: this file is `Tests/SwiftletTests/TokenizerFixtures.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let directory = packageRoot.appendingPathComponent("../shared/fixtures/tokenizer").standardizedFileURL

    /// The vocabularies with test vectors.
    static let vocabularies = [
        "llama-spm", "gpt-2", "llama-bpe", "command-r", "deepseek-coder", "deepseek-llm", "falcon", "gemma-4",
        "mpt", "phi-3", "qwen2", "qwen35", "refact", "starcoder",
    ]

    /// Whether the vectors are present (a user's clone has none).
    static var available: Bool {
        FileManager.default.fileExists(atPath: path("llama-spm", ".gguf.out"))
    }

    /// Whether the vectors of `vocabulary` are present.
    static func available(_ vocabulary: String) -> Bool {
        FileManager.default.fileExists(atPath: path(vocabulary, ".gguf")) && FileManager.default.fileExists(atPath: path(vocabulary, ".gguf.out"))
    }


    static func path(_ vocabulary: String, _ suffix: String) -> String {
        directory.appendingPathComponent("ggml-vocab-\(vocabulary)\(suffix)").path
    }

    /// One test vector: the text and the ids llama.cpp gives it without BOS.
    struct Case: Sendable {
        let text: String
        let ids: [Int32]
    }

    /// The cases of `vocabulary`: `.inp` texts separated by `\n__ggml_vocab_test__\n` (one
    /// after the last too), `.out` one line of ids per case.
    static func cases(_ vocabulary: String) throws -> [Case] {
        let texts = try splitCases(Array(Data(contentsOf: URL(fileURLWithPath: path(vocabulary, ".gguf.inp")))))
        let output = try String(contentsOfFile: path(vocabulary, ".gguf.out"), encoding: .utf8)
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        precondition(texts.count == lines.count, "\(vocabulary): \(texts.count) inputs, \(lines.count) outputs")
        return zip(texts, lines).map { text, line in
            Case(text: text, ids: line.split(separator: " ").map { Int32($0)! })
        }
    }

    /// The texts of an `.inp` file, split on the separator's bytes (splitting a `String`
    /// would see `"\r\n"` as one character and miss a separator after a `"\r"`).
    static func splitCases(_ bytes: [UInt8]) -> [String] {
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [String] = []
        var start = 0
        var i = 0
        while i + separator.count <= bytes.count {
            if bytes[i] == separator[0] && Array(bytes[i..<(i + separator.count)]) == separator {
                texts.append(String(decoding: bytes[start..<i], as: UTF8.self))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { texts.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return texts
    }

    /// The tokenizer of `vocabulary`, loaded once.
    static func tokenizer(_ vocabulary: String) throws -> any Tokenizer {
        try cache.tokenizer(vocabulary)
    }

    private static let cache = Cache()

    private final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var tokenizers: [String: any Tokenizer] = [:]

        func tokenizer(_ name: String) throws -> any Tokenizer {
            lock.lock()
            defer { lock.unlock() }
            if let tokenizer = tokenizers[name] { return tokenizer }
            let file = try GGUFFile(path: TokenizerFixtures.path(name, ".gguf"))
            let tokenizer = try makeTokenizer(from: file.metadata)
            tokenizers[name] = tokenizer
            return tokenizer
        }
    }
}
