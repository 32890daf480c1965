/// How a request picks each next token from the model's logits.
///
/// The defaults sample from the model's plain softmax (temperature 1, no filter, no penalty).
/// A `Sampler` applies the transforms in llama.cpp's default sampler-chain order:
/// penalties → top-k → top-p → min-p → temperature → softmax → draw.
/// Top-p and min-p therefore look at temperature-1 probabilities; temperature only reshapes
/// what the filters kept.
public struct SamplingParameters: Sendable, Hashable, Codable {
    /// Softmax temperature; 0 means greedy decoding (argmax, ties go to the lowest token id).
    public var temperature: Float
    /// Keep only the `topK` most likely tokens; 0 turns the filter off.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability mass reaches `topP`
    /// (nucleus sampling); 1 turns the filter off.
    public var topP: Float
    /// Keep tokens whose probability is at least `minP` times the top token's; 0 turns the filter off.
    public var minP: Float
    /// llama.cpp's repetition penalty: a token seen in the window has its logit divided by
    /// this value when positive, multiplied by it otherwise. 1 turns it off.
    public var repetitionPenalty: Float
    /// How many of the most recent tokens (prompt and generated) the penalties look at.
    /// 0 turns all penalties off.
    public var repetitionWindow: Int
    /// OpenAI-style: subtracted from a token's logit once per occurrence in the window.
    public var frequencyPenalty: Float
    /// OpenAI-style: subtracted once from the logit of every token present in the window.
    public var presencePenalty: Float
    /// Seed of the sampler's random generator; nil draws a fresh random seed.
    public var seed: UInt64?

    /// Greedy decoding: always the most likely token, no penalties.
    public static let greedy = SamplingParameters(temperature: 0)

    public init(
        temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
        repetitionPenalty: Float = 1, repetitionWindow: Int = 64,
        frequencyPenalty: Float = 0, presencePenalty: Float = 0, seed: UInt64? = nil
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.seed = seed
    }

    /// True when the distribution is one-hot at the argmax (after penalties): temperature 0,
    /// or top-k 1 (whose single survivor is the argmax with the same tie rule).
    public var isGreedy: Bool { temperature == 0 || topK == 1 }

    /// True when any penalty would change a logit.
    public var hasPenalties: Bool {
        repetitionWindow > 0
            && (repetitionPenalty != 1 || frequencyPenalty != 0 || presencePenalty != 0)
    }

    /// Checks every value against its allowed range.
    /// - Throws: `SamplingParameterError` naming the first bad parameter and its range.
    public func validate() throws {
        func fail(_ name: String, _ value: String, _ range: String) -> SamplingParameterError {
            SamplingParameterError(parameter: name, message: "\(name) is \(value); it must be \(range)")
        }
        guard temperature.isFinite, temperature >= 0 else {
            throw fail("temperature", "\(temperature)", "a finite number >= 0 (0 = greedy)")
        }
        guard topK >= 0 else { throw fail("topK", "\(topK)", ">= 0 (0 = off)") }
        guard topP.isFinite, topP > 0, topP <= 1 else {
            throw fail("topP", "\(topP)", "in (0, 1] (1 = off)")
        }
        guard minP.isFinite, minP >= 0, minP <= 1 else {
            throw fail("minP", "\(minP)", "in [0, 1] (0 = off)")
        }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw fail("repetitionPenalty", "\(repetitionPenalty)", "a finite number > 0 (1 = off)")
        }
        guard repetitionWindow >= 0 else {
            throw fail("repetitionWindow", "\(repetitionWindow)", ">= 0 (0 = no penalties)")
        }
        guard frequencyPenalty.isFinite, abs(frequencyPenalty) <= 2 else {
            throw fail("frequencyPenalty", "\(frequencyPenalty)", "in [-2, 2] (0 = off)")
        }
        guard presencePenalty.isFinite, abs(presencePenalty) <= 2 else {
            throw fail("presencePenalty", "\(presencePenalty)", "in [-2, 2] (0 = off)")
        }
    }

    /// The nearest valid parameters: what a `Sampler` uses when given values `validate()` rejects.
    /// Non-finite or negative temperature becomes greedy; other values are clamped into range.
    public func clamped() -> SamplingParameters {
        var p = self
        if !(p.temperature.isFinite && p.temperature >= 0) { p.temperature = 0 }
        p.topK = max(0, p.topK)
        if !(p.topP.isFinite && p.topP <= 1) { p.topP = 1 }
        if !(p.topP > 0) { p.topP = .leastNonzeroMagnitude }
        if !(p.minP.isFinite && p.minP >= 0) { p.minP = 0 }
        p.minP = min(p.minP, 1)
        if !(p.repetitionPenalty.isFinite && p.repetitionPenalty > 0) { p.repetitionPenalty = 1 }
        p.repetitionWindow = max(0, p.repetitionWindow)
        p.frequencyPenalty = p.frequencyPenalty.isFinite ? min(max(p.frequencyPenalty, -2), 2) : 0
        p.presencePenalty = p.presencePenalty.isFinite ? min(max(p.presencePenalty, -2), 2) : 0
        return p
    }

    // MARK: Codable (every key optional; missing keys take the defaults)

    private enum CodingKeys: String, CodingKey {
        case temperature, topK, topP, minP, repetitionPenalty, repetitionWindow
        case frequencyPenalty, presencePenalty, seed
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingParameters()
        self.init(
            temperature: try c.decodeIfPresent(Float.self, forKey: .temperature) ?? d.temperature,
            topK: try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK,
            topP: try c.decodeIfPresent(Float.self, forKey: .topP) ?? d.topP,
            minP: try c.decodeIfPresent(Float.self, forKey: .minP) ?? d.minP,
            repetitionPenalty: try c.decodeIfPresent(Float.self, forKey: .repetitionPenalty) ?? d.repetitionPenalty,
            repetitionWindow: try c.decodeIfPresent(Int.self, forKey: .repetitionWindow) ?? d.repetitionWindow,
            frequencyPenalty: try c.decodeIfPresent(Float.self, forKey: .frequencyPenalty) ?? d.frequencyPenalty,
            presencePenalty: try c.decodeIfPresent(Float.self, forKey: .presencePenalty) ?? d.presencePenalty,
            seed: try c.decodeIfPresent(UInt64.self, forKey: .seed))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(topK, forKey: .topK)
        try c.encode(topP, forKey: .topP)
        try c.encode(minP, forKey: .minP)
        try c.encode(repetitionPenalty, forKey: .repetitionPenalty)
        try c.encode(repetitionWindow, forKey: .repetitionWindow)
        try c.encode(frequencyPenalty, forKey: .frequencyPenalty)
        try c.encode(presencePenalty, forKey: .presencePenalty)
        try c.encodeIfPresent(seed, forKey: .seed)
    }
}

/// A sampling parameter outside its allowed range.
public struct SamplingParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The parameter's name, as spelled in `SamplingParameters`.
    public let parameter: String
    /// What is wrong and what is allowed.
    public let message: String

    public var description: String { "invalid sampling parameter: \(message)" }
}
