import Foundation
@testable import Swiftlet

/// Small random-weight Llama models made by the tests themselves (no ../shared needed).
enum TestModels {
    /// A deterministic random model with a byte-fallback SentencePiece vocabulary, or the
    /// `tokenizer` metadata entries given (at most `vocabulary` tokens).
    static func tiny(dimension: Int = 32, layers: Int = 2, heads: Int = 4, kvHeads: Int = 2, hidden: Int = 72,
                     vocabulary: Int = 300, context: Int = 256, seed: UInt64 = 7, tied: Bool = false,
                     weightType: GGMLType = .f32, tokenizer: [(String, GGUFValue)]? = nil) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        func random(_ count: Int, scale: Float) -> [Float] {
            (0..<count).map { _ in (rng.nextFloat() * 2 - 1) * scale }
        }
        var w = GGUFWriter()
        /// A matrix `[inputs, outputs]` (ggml order) in `weightType`.
        func matrix(_ name: String, _ inputs: Int, _ outputs: Int, scale: Float) {
            let values = random(inputs * outputs, scale: scale)
            if weightType == .f32 {
                w.addTensor(name, dimensions: [inputs, outputs], floats: values)
            } else {
                w.addTensor(name, dimensions: [inputs, outputs], type: weightType,
                            data: try! WeightQuantizer.encode(values, columns: inputs, as: weightType))
            }
        }
        w.add("general.architecture", .string("llama"))
        w.add("llama.embedding_length", .uint32(UInt32(dimension)))
        w.add("llama.block_count", .uint32(UInt32(layers)))
        w.add("llama.feed_forward_length", .uint32(UInt32(hidden)))
        w.add("llama.attention.head_count", .uint32(UInt32(heads)))
        w.add("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.add("llama.context_length", .uint32(UInt32(context)))
        w.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.add("llama.rope.freq_base", .float32(10000))
        var tokens: [GGUFValue] = [.string("<unk>"), .string("<s>"), .string("</s>")]
        var types: [GGUFValue] = [.int32(2), .int32(3), .int32(3)]
        for byte in 0..<256 {
            tokens.append(.string(String(format: "<0x%02X>", byte)))
            types.append(.int32(6))
        }
        let pieces = ["▁", "e", "t", "a", "o", "▁t", "he", "▁the", "in", "an", "▁a", "er", "on", "▁w", "re", "nd"]
        var index = 0
        while tokens.count < vocabulary {
            tokens.append(.string(index < pieces.count ? pieces[index] : "x\(index)"))
            types.append(.int32(1))
            index += 1
        }
        if let tokenizer {
            for (key, value) in tokenizer { w.add(key, value) }
        } else {
            w.add("tokenizer.ggml.model", .string("llama"))
            w.add("tokenizer.ggml.tokens", .array(tokens))
            w.add("tokenizer.ggml.scores", .array((0..<tokens.count).map { .float32(-Float($0)) }))
            w.add("tokenizer.ggml.token_type", .array(types))
            w.add("tokenizer.ggml.bos_token_id", .uint32(1))
            w.add("tokenizer.ggml.eos_token_id", .uint32(2))
            w.add("tokenizer.ggml.unknown_token_id", .uint32(0))
        }
        let hd = dimension / heads, kv = kvHeads * hd
        let s: Float = 0.3
        matrix("token_embd.weight", dimension, vocabulary, scale: 1)
        for l in 0..<layers {
            w.addTensor("blk.\(l).attn_norm.weight", dimensions: [dimension], floats: random(dimension, scale: 0.2).map { 1 + $0 })
            matrix("blk.\(l).attn_q.weight", dimension, dimension, scale: s)
            matrix("blk.\(l).attn_k.weight", dimension, kv, scale: s)
            matrix("blk.\(l).attn_v.weight", dimension, kv, scale: s)
            matrix("blk.\(l).attn_output.weight", dimension, dimension, scale: s)
            w.addTensor("blk.\(l).ffn_norm.weight", dimensions: [dimension], floats: random(dimension, scale: 0.2).map { 1 + $0 })
            matrix("blk.\(l).ffn_gate.weight", dimension, hidden, scale: s)
            matrix("blk.\(l).ffn_up.weight", dimension, hidden, scale: s)
            matrix("blk.\(l).ffn_down.weight", hidden, dimension, scale: s)
        }
        w.addTensor("output_norm.weight", dimensions: [dimension], floats: random(dimension, scale: 0.2).map { 1 + $0 })
        if !tied {
            matrix("output.weight", dimension, vocabulary, scale: 1)
        }
        return w.serialized()
    }

    static func load(_ bytes: [UInt8]) throws -> LoadedModel {
        try ModelLoader.load(file: MappedFile(bytes: bytes))
    }
}
