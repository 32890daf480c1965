/// A request's running estimate of the per-token probability that the target accepts a
/// draft token (the `alpha` of `SpeculationPolicy.expectedTokens`).
///
/// Drafts are accepted up to the first rejection, so a step that proposes k tokens and
/// accepts a of them saw a + 1 trials of which a succeeded (a trials when all k were taken).
/// The estimate is the ratio of exponential moving averages of successes and trials: the
/// fraction a / k would read a per-token rate of 0.7 as 0.61 at k = 2 and 0.36 at k = 8.
/// Steps the policy leaves undrafted move the estimate back toward the prior, so one bad
/// stretch does not switch drafting off for the rest of the request.
struct DraftAcceptance {
    /// The rate assumed before any draft was verified.
    static let prior = 0.7
    /// Weight of the newest step in the averages.
    static let weight = 0.2
    /// Fraction of the way back to the prior an undrafted step moves the estimate.
    static let recovery = 0.05

    private var successes = prior
    private var trials = 1.0

    /// The estimated per-token acceptance probability.
    var estimate: Double { successes / trials }

    /// Records a verified draft of `proposed` tokens of which the first `accepted` were taken.
    mutating func record(accepted: Int, proposed: Int) {
        guard proposed > 0 else { return }
        let stepTrials = Double(accepted + (accepted < proposed ? 1 : 0))
        successes = (1 - Self.weight) * successes + Self.weight * Double(accepted)
        trials = (1 - Self.weight) * trials + Self.weight * stepTrials
    }

    /// A decode step without a draft: the estimate drifts back toward the prior.
    mutating func recordUndraftedStep() {
        let target = Self.prior * trials
        successes += Self.recovery * (target - successes)
    }
}
