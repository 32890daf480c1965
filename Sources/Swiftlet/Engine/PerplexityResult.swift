import Foundation

/// The perplexity of a model on a text: what `PerplexityEvaluator` measured.
public struct PerplexityResult: Sendable, Equatable {
    /// Sum over scored tokens of `-ln p(token | previous tokens of its window)`, in nats.
    public var negativeLogLikelihood = 0.0
    /// Tokens scored (every text token once; BOS never).
    public var tokenCount = 0
    /// Windows run.
    public var windowCount = 0
    /// Tokens per window (the last may be shorter).
    public var context = 0
    /// Tokens run through the model, BOS included.
    public var processedTokens = 0
    /// Time spent in the windows' forward passes and scoring.
    public var seconds = 0.0

    public init(context: Int) {
        self.context = context
    }

    /// Mean negative log-likelihood per scored token, in nats.
    public var negativeLogLikelihoodPerToken: Double {
        tokenCount > 0 ? negativeLogLikelihood / Double(tokenCount) : .nan
    }

    /// `exp(negativeLogLikelihoodPerToken)`.
    public var perplexity: Double { exp(negativeLogLikelihoodPerToken) }

    /// Tokens run through the model (BOS included) per second.
    public var tokensPerSecond: Double { seconds > 0 ? Double(processedTokens) / seconds : 0 }
}

/// Why a perplexity evaluation cannot run.
public enum PerplexityError: Error, Equatable, CustomStringConvertible {
    /// The window must hold BOS and at least one token to score.
    case contextTooSmall(Int)
    /// The window is longer than the model's context.
    case contextTooLarge(context: Int, modelContext: Int)
    /// The text has no tokens.
    case emptyText
    /// A token id the model has no embedding for.
    case tokenOutOfVocabulary(id: Int32, vocabularySize: Int)

    public var description: String {
        switch self {
        case .contextTooSmall(let context):
            return "the context is \(context) tokens; it must be at least 2 (BOS and one token to score)"
        case .contextTooLarge(let context, let modelContext):
            return "the context is \(context) tokens; the model's context length is \(modelContext)"
        case .emptyText:
            return "the text has no tokens"
        case .tokenOutOfVocabulary(let id, let vocabularySize):
            return "token id \(id) is outside the model's vocabulary (0..<\(vocabularySize))"
        }
    }
}
