import ArgumentParser
import Foundation
import Swiftlet

/// `swiftlet tokenize --model PATH [--no-bos] [--parse-special] [--json] TEXT...`: token ids
/// of each text, one line per text, as llama.cpp's `llama-tokenize` gives them.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of each TEXT, one line per text.",
        discussion: """
            Without --json each line lists the ids with their pieces: 1 '<s>' 15043 ' Hello'.
            With --json each line is a JSON array of ids. --benchmark-file measures encoding
            throughput on a text file instead.
            """)

    @Option(name: [.long, .customShort("m")], help: "A GGUF model or vocabulary, or a llama2.c tokenizer.bin.")
    var model: String

    @Flag(name: .long, help: "Do not add BOS (or EOS) even where the vocabulary asks for it.")
    var noBos = false

    @Flag(name: .long, help: "Read special-token text such as <s> or <|eot_id|> as those tokens.")
    var parseSpecial = false

    @Flag(name: .long, help: "Print a JSON array of ids per text.")
    var json = false

    @Option(name: .long, help: "Encode this file repeatedly and print the encoding speed in MB/s.")
    var benchmarkFile: String?

    @Argument(help: "Texts to tokenize.")
    var texts: [String] = []

    func validate() throws {
        if benchmarkFile == nil && texts.isEmpty {
            throw ValidationError("give at least one TEXT (or --benchmark-file FILE)")
        }
    }

    func run() throws {
        let tokenizer = try Self.loadTokenizer(path: model)
        if let benchmarkFile {
            try benchmark(tokenizer, path: benchmarkFile)
            return
        }
        for text in texts {
            let ids = tokenizer.encode(text, addSpecialTokens: !noBos, parseSpecial: parseSpecial)
            if json {
                print("[" + ids.map(String.init).joined(separator: ",") + "]")
            } else {
                print(ids.map { "\($0) \(Self.quoted(tokenizer.pieceBytes(of: $0)))" }.joined(separator: " "))
            }
        }
    }

    /// The tokenizer in a GGUF file (by its magic) or a llama2.c `tokenizer.bin`.
    static func loadTokenizer(path: String) throws -> any Tokenizer {
        let file = try MappedFile(path: path)
        if file.bytes.count >= 4 && file.bytes.loadUnaligned(as: UInt32.self) == UInt32(0x4655_4747).littleEndian {
            let gguf = try GGUFFile(file: file)
            return try makeTokenizer(from: gguf.metadata)
        }
        return try Llama2TokenizerFile.tokenizer(from: file.bytes)
    }

    /// A piece in single quotes, with quotes, backslashes and control characters escaped and
    /// bytes that are not UTF-8 (part of a character) as `\xNN`.
    static func quoted(_ bytes: [UInt8]) -> String {
        var result = "'"
        var index = 0
        while index < bytes.count {
            var decoder = UTF8()
            var iterator = bytes[index...].makeIterator()
            let before = index
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                index += String(scalar).utf8.count
                switch scalar {
                case "'": result += "\\'"
                case "\\": result += "\\\\"
                case "\n": result += "\\n"
                case "\t": result += "\\t"
                case "\r": result += "\\r"
                default:
                    if scalar.properties.generalCategory == .control {
                        result += "\\u{" + String(scalar.value, radix: 16) + "}"
                    } else {
                        result.unicodeScalars.append(scalar)
                    }
                }
            case .error, .emptyInput:
                result += "\\x" + String(bytes[before], radix: 16, uppercase: true).leftPadded(to: 2)
                index = before + 1
            }
        }
        return result + "'"
    }

    /// Encodes (then decodes) the file's text repeatedly, at least three times and a second,
    /// and prints the best speeds in MB of text per second.
    func benchmark(_ tokenizer: any Tokenizer, path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read --benchmark-file '\(path)'")
        }
        let text = String(decoding: data, as: UTF8.self)
        let megabytes = Double(text.utf8.count) / 1_000_000
        func best(_ body: () -> Void) -> (seconds: Double, runs: Int) {
            var best = Double.infinity, elapsed = 0.0, runs = 0
            while runs < 3 || elapsed < 1.0 {
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best = min(best, seconds)
                elapsed += seconds
                runs += 1
            }
            return (best, runs)
        }
        var ids: [Int32] = []
        let encode = best { ids = tokenizer.encode(text, addSpecialTokens: !noBos, parseSpecial: parseSpecial) }
        var decoded = ""
        let decode = best { decoded = tokenizer.decode(ids) }
        print(String(format: "encode: %.2f MB, %d tokens, best of %d runs %.3f s, %.2f MB/s, %.0f tokens/s",
                     megabytes, ids.count, encode.runs, encode.seconds, megabytes / encode.seconds,
                     Double(ids.count) / encode.seconds))
        print(String(format: "decode: %d tokens, best of %d runs %.3f s, %.2f MB/s%@", ids.count, decode.runs,
                     decode.seconds, megabytes / decode.seconds, decoded == text ? "" : " (text differs from the input)"))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
