// libFuzzer target: tokenizer loading and encode/decode round trips.
//
// First byte even: the rest (after a selector byte) is text for one of the vocabularies
// loaded at start-up (SWIFTLET_FUZZ_VOCABS, colon-separated GGUF paths): encoding then
// decoding must give the text back, and streaming the ids must equal decoding them.
// First byte odd: the rest is a GGUF file whose vocabulary is loaded and exercised.
// Compiled together with Tests/SwiftletTests/TokenizerTestVocabularies.swift, whose small
// vocabularies become seeds when SWIFTLET_FUZZ_WRITE_SEEDS names a folder.
import Foundation
@testable import Swiftlet

nonisolated(unsafe) private var vocabularies: [any Tokenizer] = []

private let sampleTexts = [
    "Hello world", " <s>hello</s> <|endoftext|> zz", "don't 42 3.14 \u{1F999}\u{200D} 日本語",
    "\t\n \u{A0} abcabc <tool> ▁x", "",
]

@_cdecl("LLVMFuzzerInitialize")
public func fuzzTokenizerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    if let folder = environment["SWIFTLET_FUZZ_WRITE_SEEDS"] {
        writeSeeds(to: folder)
        exit(0)
    }
    for path in (environment["SWIFTLET_FUZZ_VOCABS"] ?? "").split(separator: ":") {
        guard let file = try? GGUFFile(path: String(path)),
              let tokenizer = try? makeTokenizer(from: file.metadata) else { continue }
        vocabularies.append(tokenizer)
    }
    typealias V = TokenizerTestVocabularies
    if let own = try? V.sentencePiece() { vocabularies.append(own) }
    if let own = try? V.byteLevelBPE(pre: "llama-bpe") { vocabularies.append(own) }
    return 0
}

private func writeSeeds(to folder: String) {
    typealias V = TokenizerTestVocabularies
    let sets: [[(String, GGUFValue)]] = [
        V.sentencePieceEntries(), V.sentencePieceEntries(byteTokens: false),
        V.byteLevelEntries(pre: "gpt-2"), V.byteLevelEntries(pre: "llama-bpe"), V.byteLevelEntries(pre: "qwen2"),
        V.byteLevelEntries(pre: nil, extraTokens: ["€€€", "hello", "h"]),
    ]
    for (index, entries) in sets.enumerated() {
        var writer = GGUFWriter()
        for (key, value) in entries { writer.add(key, value) }
        let bytes = [UInt8(1)] + writer.serialized()
        _ = FileManager.default.createFile(atPath: "\(folder)/vocab-\(index)", contents: Data(bytes))
    }
    for (index, text) in sampleTexts.enumerated() {
        for selector in 0..<4 {
            let bytes = [UInt8(0), UInt8(selector)] + Array(text.utf8)
            _ = FileManager.default.createFile(atPath: "\(folder)/text-\(index)-\(selector)", contents: Data(bytes))
        }
    }
}

private func checkRoundTrip(_ tokenizer: any Tokenizer, _ text: String, parseSpecial: Bool) {
    let ids = tokenizer.encode(text, addSpecialTokens: parseSpecial, parseSpecial: parseSpecial)
    for id in ids { precondition(id >= 0 && Int(id) < tokenizer.vocabularySize, "id \(id) out of range") }
    var stream = StreamingDetokenizer(tokenizer: tokenizer)
    let streamed = stream.append(contentsOf: ids) + stream.finish()
    precondition(streamed == tokenizer.decode(ids), "streaming differs from decode for \(ids)")
    guard !parseSpecial else { return }
    // SentencePiece writes spaces as U+2581, so a literal one comes back as a space; and
    // text after a user-defined token gets the dummy space prefix (llama.cpp's rule), which
    // decoding keeps. Elsewhere decoding must give the text back.
    if tokenizer.vocabulary.model == .sentencePiece {
        if text.unicodeScalars.contains("\u{2581}") { return }
        let cut = Array(text.utf8).withUnsafeBytes { tokenizer.vocabulary.fragments(of: $0, parseSpecial: false) }
        if tokenizer.vocabulary.addsSpacePrefix && cut.contains(where: { if case .token = $0 { true } else { false } }) { return }
    }
    let decoded = tokenizer.decode(ids)
    precondition(decoded == text, "round trip: \(text.debugDescription) -> \(ids) -> \(decoded.debugDescription)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    if data[0] & 1 == 0 {
        guard !vocabularies.isEmpty else { return 0 }
        let tokenizer = vocabularies[Int(data[1]) % vocabularies.count]
        let text = String(decoding: UnsafeBufferPointer(start: data + 2, count: size - 2), as: UTF8.self)
        checkRoundTrip(tokenizer, text, parseSpecial: data[0] & 2 != 0)
        // Any ids at all decode and stream alike.
        var ids: [Int32] = []
        var i = 2
        while i + 2 <= size && ids.count < 64 {
            ids.append(Int32(UInt16(data[i]) | UInt16(data[i + 1]) << 8) % Int32(tokenizer.vocabularySize))
            i += 2
        }
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        precondition(stream.append(contentsOf: ids) + stream.finish() == tokenizer.decode(ids))
    } else {
        let file = MappedFile(bytes: Array(UnsafeBufferPointer(start: data + 1, count: size - 1)))
        guard let gguf = try? GGUFFile(file: file), let tokenizer = try? makeTokenizer(from: gguf.metadata) else { return 0 }
        for text in sampleTexts {
            let ids = tokenizer.encode(text, addSpecialTokens: true, parseSpecial: true)
            for id in ids { precondition(id >= 0 && Int(id) < tokenizer.vocabularySize, "id \(id) out of range") }
            _ = tokenizer.decode(ids, options: DecodingOptions(rendersSpecialTokens: true))
        }
    }
    return 0
}
