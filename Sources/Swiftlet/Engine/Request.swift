/// The engine's state of one request (engine thread only).
final class Request {
    let id: Int
    let promptTokens: [Int32]
    /// Prompt then generated tokens, `(promptCount + generated)`.
    var tokens: [Int32]
    /// Leading tokens whose keys and values are in the KV cache.
    var computedTokenCount = 0
    /// KV blocks holding positions `i * blockSize ..< (i + 1) * blockSize`.
    var blockTable: [Int32] = []
    let parameters: GenerationParameters
    var sampler: Sampler
    var metrics = RequestMetrics()
    var text: TextStream
    var finishReason: FinishReason?
    /// Draft tokens to verify in the next step.
    var draft = DraftProposal()
    /// Running estimate of the fraction of draft tokens the target accepts.
    var acceptanceEstimate = 0.7
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

/// Turns generated ids into text for streaming: emits only complete characters, and holds
/// back any tail that could still become a stop sequence.
struct TextStream {
    private let tokenizer: (any Tokenizer)?
    private let stopSequences: [String]
    private var ids: [Int32] = []
    /// Text already handed to the caller.
    private(set) var emitted = ""
    var hasTokenizer: Bool { tokenizer != nil }

    init(tokenizer: (any Tokenizer)?, stopSequences: [String]) {
        self.tokenizer = tokenizer
        self.stopSequences = stopSequences.filter { !$0.isEmpty }
    }

    /// Adds `id`; returns the new text to emit and whether a stop sequence was reached
    /// (the text then ends just before it).
    mutating func append(_ id: Int32) -> (text: String, stopped: Bool) {
        guard let tokenizer else { return ("", false) }
        ids.append(id)
        var full = tokenizer.decode(ids, options: DecodingOptions())
        // An incomplete multi-byte character decodes to U+FFFD at the end: wait for more.
        while full.unicodeScalars.last == "\u{FFFD}" { full.unicodeScalars.removeLast() }
        for stop in stopSequences {
            if let range = full.range(of: stop) {
                let kept = String(full[..<range.lowerBound])
                return (emitText(upTo: kept), true)
            }
        }
        // Hold back a suffix that is a prefix of some stop sequence.
        var safe = full
        for stop in stopSequences {
            for length in stride(from: min(stop.count, full.count), to: 0, by: -1) where full.hasSuffix(String(stop.prefix(length))) {
                let candidate = String(full.dropLast(length))
                if candidate.count < safe.count { safe = candidate }
                break
            }
        }
        return (emitText(upTo: safe), false)
    }

    /// Text not emitted yet at the end of the request (held-back stop prefixes, a broken
    /// trailing character as U+FFFD).
    mutating func finish(stopped: Bool) -> String {
        guard let tokenizer, !stopped else { return "" }
        return emitText(upTo: tokenizer.decode(ids, options: DecodingOptions()))
    }

    private mutating func emitText(upTo target: String) -> String {
        guard target.hasPrefix(emitted), target.count > emitted.count else { return "" }
        let piece = String(target.dropFirst(emitted.count))
        emitted = target
        return piece
    }
}
