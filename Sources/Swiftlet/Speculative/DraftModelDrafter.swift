/// Drafts with a small model of the same vocabulary: its own decoder and KV cache, fed the
/// request's accepted tokens, then run k steps autoregressively, batched over requests.
public final class DraftModelDrafter: Drafter {
    public let transformer: Transformer
    public let cache: PagedKVCache
    /// The draft cache's block tables, by request id.
    let kv: KVCacheManager
    private var states: [Int: State] = [:]
    private var samplers: [Int: Sampler] = [:]
    private var batch = TokenBatch()
    private let vocabularySize: Int
    /// Seconds spent in draft forwards, and their count (for the speculation policy).
    public private(set) var forwardSeconds = 0.0
    public private(set) var forwardSteps = 0

    /// A request's draft KV state.
    final class State {
        /// The tokens whose keys and values the draft cache holds, positions `0..<count`.
        var fed: [Int32] = []
        var computed: Int { fed.count }

        /// Keeps only what agrees with `tokens`, and leaves at least its last token to feed
        /// (its logits give the first draft).
        func align(with tokens: [Int32]) {
            var common = 0
            let limit = min(fed.count, tokens.count - 1)
            while common < limit && fed[common] == tokens[common] { common += 1 }
            fed.removeLast(fed.count - common)
        }
    }

    /// - Parameters:
    ///   - model: the draft checkpoint; its vocabulary must equal the target's.
    ///   - targetVocabulary: the target's vocabulary size (checked).
    ///   - kvTokens: draft KV capacity in tokens.
    ///   - weightsFromMemory: whether the draft's weights come from memory each step (true
    ///     beside a target that streams its own: it evicts them); nil: from their size.
    public init(model: LoadedModel, targetVocabularySize: Int, targetTokenizer: (any Tokenizer)?, maxBatchTokens: Int,
                maxContext: Int, kvTokens: Int, pool: ThreadPool, kernels: Kernels = .default,
                weightsFromMemory: Bool? = nil) throws {
        let draftVocabulary = model.configuration.vocabularySize
        guard draftVocabulary == targetVocabularySize else {
            throw GenerationError.invalidRequest("the draft model's vocabulary (\(draftVocabulary) tokens) differs from the target's (\(targetVocabularySize))")
        }
        if let metadata = model.metadata, let target = targetTokenizer, metadata["tokenizer.ggml.tokens"] != nil {
            let draftTokens = try metadata.stringArray("tokenizer.ggml.tokens") ?? []
            let targetTokens = (0..<target.vocabulary.count).map { target.vocabulary.text(of: Int32($0)) ?? "" }
            guard draftTokens == targetTokens else {
                throw GenerationError.invalidRequest("the draft model's vocabulary differs from the target's (same size, different tokens)")
            }
        }
        vocabularySize = draftVocabulary
        transformer = try Transformer(weights: model.weights, maxBatchTokens: maxBatchTokens, maxContext: min(maxContext, model.configuration.contextLength), pool: pool,
                                  kernels: kernels, weightsFromMemory: weightsFromMemory)
        cache = try PagedKVCache(configuration: model.configuration, blockSize: 16, blockCount: max(1, kvTokens / 16 + 1))
        kv = KVCacheManager(cache: cache)
    }

    public func propose(_ requests: [DraftRequest]) -> [DraftProposal] {
        var proposals = [DraftProposal](repeating: DraftProposal(), count: requests.count)
        // Requests that can draft: room in the draft context and cache.
        var active: [Int] = []
        for (i, request) in requests.enumerated() where request.count > 0 {
            let state = states[request.id] ?? { let s = State(); states[request.id] = s; return s }()
            if samplers[request.id] == nil {
                var parameters = request.sampling
                parameters.seed = parameters.seed.map { $0 &+ 0x9E37_79B9_7F4A_7C15 }
                samplers[request.id] = Sampler(parameters: parameters, vocabularySize: vocabularySize)
            }
            state.align(with: request.tokens)
            let needed = request.tokens.count + request.count
            guard needed <= transformer.maxContext, kv.allocateSlots(for: request.id, tokens: needed) != nil else { continue }
            if request.sampling.isGreedy == false { proposals[i].distributions = [] }
            active.append(i)
        }
        // Catch up: feed each request's tokens the draft has not seen, in chunks.
        var pending = active
        while !pending.isEmpty {
            batch.removeAll()
            var rows: [(Int, Bool)] = []  // (request index, produced logits)
            var budget = transformer.maxBatchTokens
            var next: [Int] = []
            for i in pending {
                let state = states[requests[i].id]!
                let tokens = requests[i].tokens
                let remaining = tokens.count - state.computed
                guard budget > 0 else { next.append(i); continue }
                let take = min(remaining, budget)
                let sequence = batch.addSequence(blockTable: kv.blockTable(of: requests[i].id))
                for p in state.computed..<(state.computed + take) {
                    batch.append(token: tokens[p], position: p, sequence: sequence, wantsLogits: p == tokens.count - 1)
                }
                state.fed.append(contentsOf: tokens[state.computed..<(state.computed + take)])
                budget -= take
                if state.computed < tokens.count { next.append(i) }
                rows.append((i, state.computed == tokens.count))
            }
            let logits = run(batch)
            var row = 0
            for (i, produced) in rows where produced {
                appendDraft(requests[i], logits: logits, row: row, into: &proposals[i])
                row += 1
            }
            pending = next
        }
        // Autoregressive steps: feed the last draft token of every request still drafting.
        var drafting = active.filter { proposals[$0].tokens.count < requests[$0].count }
        while !drafting.isEmpty {
            batch.removeAll()
            for i in drafting {
                let state = states[requests[i].id]!
                let sequence = batch.addSequence(blockTable: kv.blockTable(of: requests[i].id))
                batch.append(token: proposals[i].tokens.last!, position: state.computed, sequence: sequence, wantsLogits: true)
                state.fed.append(proposals[i].tokens.last!)
            }
            let logits = run(batch)
            for (row, i) in drafting.enumerated() {
                appendDraft(requests[i], logits: logits, row: row, into: &proposals[i])
            }
            drafting = drafting.filter { proposals[$0].tokens.count < requests[$0].count }
        }
        return proposals
    }

    public func rollback(id: Int, to length: Int) {
        guard let state = states[id] else { return }
        state.fed.removeLast(max(0, state.fed.count - length))
        kv.trim(id, toTokens: state.computed)
    }

    public func finish(id: Int) {
        states[id] = nil
        kv.free(id)
        samplers[id] = nil
    }

    /// Measured seconds of one draft forward of `batchSize` tokens.
    public func stepSeconds(batchSize: Int) -> Double {
        if costs.isEmpty { costs = CostTable.measure(transformer, kv: kv, sizes: [1, 2, 4, 8, 16, 32, 64]) }
        return costs.seconds(tokens: batchSize)
    }
    private var costs = CostTable()

    private func run(_ batch: TokenBatch) -> Logits {
        let start = MonotonicClock.now()
        let logits = transformer.forward(batch, cache: cache)
        let seconds = MonotonicClock.now() - start
        if !costs.isEmpty { costs.observe(tokens: batch.tokenCount, seconds: seconds) }
        forwardSeconds += seconds
        forwardSteps += 1
        return logits
    }

    private func appendDraft(_ request: DraftRequest, logits: Logits, row: Int, into proposal: inout DraftProposal) {
        var sampler = samplers[request.id]!
        let history = request.tokens + proposal.tokens
        let rowLogits = UnsafeBufferPointer(logits.row(row))
        if proposal.distributions != nil {
            var q = [Float](repeating: 0, count: vocabularySize)
            history.withUnsafeBufferPointer { h in
                q.withUnsafeMutableBufferPointer { sampler.distribution(logits: rowLogits, history: h, into: $0) }
            }
            let token = q.withUnsafeBufferPointer { sampler.draw(from: $0) }
            proposal.tokens.append(token)
            proposal.distributions!.append(q)
        } else {
            let token = history.withUnsafeBufferPointer { sampler.sample(logits: rowLogits, history: $0) }
            proposal.tokens.append(token)
        }
        samplers[request.id] = sampler
    }
}
