import Testing
@testable import Swiftlet

/// The per-token draft acceptance estimate the adaptive draft length is chosen from.
@Suite("Draft acceptance")
struct DraftAcceptanceTests {
    /// Accepted counts of k-token drafts when each token is accepted with probability alpha,
    /// drawn from a fixed generator.
    static func acceptedCounts(alpha: Double, k: Int, steps: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        return (0..<steps).map { _ in
            var accepted = 0
            while accepted < k && Double(rng.next() % 1_000_000) / 1_000_000 < alpha { accepted += 1 }
            return accepted
        }
    }

    @Test func estimatesThePerTokenRateWhateverTheDraftLength() {
        for k in [1, 2, 4, 8] {
            var acceptance = DraftAcceptance()
            var estimates: [Double] = []
            for (step, accepted) in Self.acceptedCounts(alpha: 0.7, k: k, steps: 4000, seed: UInt64(k)).enumerated() {
                acceptance.record(accepted: accepted, proposed: k)
                if step >= 100 { estimates.append(acceptance.estimate) }
            }
            let mean = estimates.reduce(0, +) / Double(estimates.count)
            // The fraction accepted / k would average 0.61 at k = 2 and 0.36 at k = 8.
            #expect(abs(mean - 0.7) < 0.03, "k \(k): mean estimate \(mean)")
        }
    }

    @Test func undraftedStepsBringDraftingBack() {
        var acceptance = DraftAcceptance()
        for _ in 0..<20 { acceptance.record(accepted: 0, proposed: 2) }
        #expect(acceptance.estimate < 0.05)
        // The policy of the shipped pair drafts again from about 0.4; a request that stopped
        // drafting gets there within some tens of plain steps.
        var steps = 0
        while acceptance.estimate < 0.4 && steps < 1000 {
            acceptance.recordUndraftedStep()
            steps += 1
        }
        #expect(steps > 5 && steps < 60, "\(steps) undrafted steps to recover")
        // Never past the prior.
        for _ in 0..<1000 { acceptance.recordUndraftedStep() }
        #expect(abs(acceptance.estimate - DraftAcceptance.prior) < 1e-9)
        // A draft of nothing changes nothing.
        let before = acceptance.estimate
        acceptance.record(accepted: 0, proposed: 0)
        #expect(acceptance.estimate == before)
    }
}
