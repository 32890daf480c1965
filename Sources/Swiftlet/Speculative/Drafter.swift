/// One request's ask for draft tokens.
public struct DraftRequest {
    /// The engine's request id (drafters keep per-request state under it).
    public let id: Int
    /// The request's accepted tokens so far (prompt and generated).
    public let tokens: [Int32]
    /// Most tokens to propose.
    public let count: Int
    /// The request's sampling parameters (draft tokens are drawn with them).
    public let sampling: SamplingParameters
}

/// Tokens a drafter proposes for one request.
public struct DraftProposal {
    public var tokens: [Int32] = []
    /// For each proposed token, the distribution q it was drawn from over the vocabulary,
    /// `(tokens.count, vocabularySize)`; nil means each token was chosen deterministically
    /// (q is one-hot at it).
    public var distributions: [[Float]]?

    public init(tokens: [Int32] = [], distributions: [[Float]]? = nil) {
        self.tokens = tokens
        self.distributions = distributions
    }

    /// Keeps the first `count` draft tokens.
    public mutating func truncate(to count: Int) {
        guard count < tokens.count else { return }
        tokens.removeLast(tokens.count - count)
        if let kept = distributions?.prefix(count) { distributions = Array(kept) }
    }

    /// q(token) of draft `index` for `token`.
    func probability(of token: Int32, at index: Int) -> Float {
        guard let distributions else { return token == tokens[index] ? 1 : 0 }
        return distributions[index][Int(token)]
    }
}

/// Proposes tokens that the target model then verifies in one batched forward. Used from
/// the engine thread only.
public protocol Drafter: AnyObject {
    /// Proposals for every request, in order (an empty proposal is allowed).
    func propose(_ requests: [DraftRequest]) -> [DraftProposal]
    /// The request's accepted tokens now agree with what the drafter saw only for the first
    /// `length` positions: forget anything beyond.
    func rollback(id: Int, to length: Int)
    /// The request ended: free its state.
    func finish(id: Int)
    /// Seconds one draft step over `batchSize` requests costs.
    func stepSeconds(batchSize: Int) -> Double
}

extension Drafter {
    /// Seconds one draft step over `batchSize` requests costs (for choosing draft lengths);
    /// drafters without a model cost nothing worth counting.
    public func stepSeconds(batchSize: Int) -> Double { 0 }
}
