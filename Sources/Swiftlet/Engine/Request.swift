/// The engine's state of one request (engine thread only).
final class Request {
    let id: Int
    let promptTokens: [Int32]
    /// Prompt then generated tokens, `(promptCount + generated)`.
    var tokens: [Int32]
    /// Leading tokens whose keys and values are in the KV cache.
    var computedTokenCount = 0
    let parameters: GenerationParameters
    var sampler: Sampler
    var metrics = RequestMetrics()
    var text: TextStream
    var finishReason: FinishReason?
    /// Draft tokens to verify in the next step.
    var draft = DraftProposal()
    /// Running estimate of the per-token probability that the target accepts a draft token.
    var acceptance = DraftAcceptance()
    /// Whether the prefix cache was consulted for it yet (counted once in the metrics).
    var prefixLookedUp = false
    /// When the previous generated token was sampled.
    var lastTokenTime = 0.0
    let emit: @Sendable (GenerationEvent) -> Void

    init(id: Int, promptTokens: [Int32], parameters: GenerationParameters, vocabularySize: Int,
         text: TextStream, emit: @escaping @Sendable (GenerationEvent) -> Void) {
        self.id = id
        self.promptTokens = promptTokens
        tokens = promptTokens
        self.parameters = parameters
        sampler = Sampler(parameters: parameters.sampling, vocabularySize: vocabularySize)
        self.text = text
        self.emit = emit
        metrics.promptTokenCount = promptTokens.count
        metrics.arrivalTime = MonotonicClock.now()
    }

    var generatedCount: Int { tokens.count - promptTokens.count }
    /// Tokens still to run through the model before the next token can be sampled, draft
    /// tokens to verify included.
    var uncomputedCount: Int { tokens.count - computedTokenCount + draft.tokens.count }

    /// The token at `position`: accepted, or draft beyond them.
    func token(at position: Int) -> Int32 {
        position < tokens.count ? tokens[position] : draft.tokens[position - tokens.count]
    }

    /// The finished request's summary.
    func result() -> GenerationResult {
        GenerationResult(
            requestID: id, promptTokens: promptTokens, tokens: Array(tokens[promptTokens.count...]),
            text: text.hasTokenizer ? text.emitted : nil, finishReason: finishReason ?? .cancelled, metrics: metrics)
    }
}

/// Turns generated ids into text for streaming: emits only complete characters (through
/// `StreamingDetokenizer`), and holds back any tail that could still become a stop sequence.
struct TextStream {
    private var detokenizer: StreamingDetokenizer?
    private let stopSequences: [String]
    /// Decoded text not emitted yet: the longest tail that is a prefix of a stop sequence.
    private var held = ""
    /// Text already handed to the caller.
    private(set) var emitted = ""
    var hasTokenizer: Bool { detokenizer != nil }

    init(tokenizer: (any Tokenizer)?, stopSequences: [String]) {
        // Generated text continues the prompt: a leading space is part of it.
        detokenizer = tokenizer.map { StreamingDetokenizer(tokenizer: $0, startsText: false) }
        self.stopSequences = stopSequences.filter { !$0.isEmpty }
    }

    /// Adds `id`; returns the new text to emit and whether a stop sequence was reached
    /// (the text then ends just before it).
    mutating func append(_ id: Int32) -> (text: String, stopped: Bool) {
        guard detokenizer != nil else { return ("", false) }
        held += detokenizer!.append(id)
        guard !stopSequences.isEmpty else { return (release(held.count), false) }
        // A stop sequence can only start inside `held`: any earlier start would have been held.
        var earliest: String.Index?
        for stop in stopSequences {
            if let range = held.range(of: stop), earliest.map({ range.lowerBound < $0 }) ?? true { earliest = range.lowerBound }
        }
        if let earliest {
            held = String(held[..<earliest])
            return (release(held.count), true)
        }
        var keep = 0
        for stop in stopSequences {
            for length in stride(from: min(stop.count - 1, held.count), to: keep, by: -1) where held.hasSuffix(String(stop.prefix(length))) {
                keep = length
                break
            }
        }
        return (release(held.count - keep), false)
    }

    /// Text not emitted yet at the end of the request (held-back stop prefixes, a broken
    /// trailing character as U+FFFD).
    mutating func finish(stopped: Bool) -> String {
        guard detokenizer != nil, !stopped else { return "" }
        held += detokenizer!.finish()
        return release(held.count)
    }

    /// Emits the first `count` characters of `held`.
    private mutating func release(_ count: Int) -> String {
        guard count > 0 else { return "" }
        let cut = held.index(held.startIndex, offsetBy: count)
        let piece = String(held[..<cut])
        held.removeSubrange(..<cut)
        emitted += piece
        return piece
    }
}
