/// What a `tokenizer.ggml.pre` name sets up in llama.cpp's vocabulary loader for a BPE
/// vocabulary: the pre-tokenizer and the flags that go with it.
struct PreTokenizerConfiguration: Sendable, Equatable {
    var preTokenizer: PreTokenizer
    /// A whole word that is a token skips merging (`ignore_merges`).
    var ignoresMerges = false
    /// BOS is added unless the file says otherwise (`add_bos`).
    var addsBOS = false
    /// Decoding cleans up spaces before punctuation by default (`clean_spaces`).
    var cleansUpSpaces = true
    /// Spaces are spelled `▁` and words are merged from their UTF-8 characters, without
    /// GPT-2's byte-level characters (`escape_whitespaces`, no byte encoding: Gemma 4).
    var spellsSpacesAsMarker = false
    /// BOS is added even when the file says not to (llama.cpp's Gemma 4 workaround).
    var forcesBOS = false
}

extension PreTokenizer {
    /// The configuration for a `tokenizer.ggml.pre` name, as llama.cpp's loader sets it up;
    /// nil for a name it does not know (or one whose tokenizer Swiftlet lacks).
    static func configuration(named name: String) -> PreTokenizerConfiguration? {
        typealias C = PreTokenizerConfiguration
        switch name {
        case "default":
            return C(preTokenizer: .standard)
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            return C(preTokenizer: .llama3, ignoresMerges: true, addsBOS: true)
        case "dbrx", "smaug-bpe":
            return C(preTokenizer: .llama3)
        case "glm4", "chatglm-bpe":
            return C(preTokenizer: .llama3)  // and no default BOS, which BPE never has here
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
             "modern-bert", "mpt", "olmo", "jais", "exaone4", "jina-v1-en", "jina-v2-code", "roberta-bpe":
            return C(preTokenizer: .gpt2)
        case "trillion", "granite-docling":
            return C(preTokenizer: .gpt2, cleansUpSpaces: false)
        case "stablelm2", "megrez":
            return C(preTokenizer: .qwen2)
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2":
            return C(preTokenizer: .qwen2, cleansUpSpaces: false)
        case "qwen35":
            return C(preTokenizer: .qwen35, cleansUpSpaces: false)
        case "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2":
            return C(preTokenizer: .starCoder)
        case "command-r", "smollm":
            return C(preTokenizer: .starCoder, cleansUpSpaces: false)
        case "falcon":
            return C(preTokenizer: .falcon)
        case "deepseek-llm":
            return C(preTokenizer: .deepSeekLLM, cleansUpSpaces: false)
        case "deepseek-coder":
            return C(preTokenizer: .deepSeekCoder, cleansUpSpaces: false)
        case "deepseek-v3", "hunyuan-dense", "hy_v4", "joyai-llm":
            return C(preTokenizer: .deepSeekV3, cleansUpSpaces: false)
        case "spark2_5":
            return C(preTokenizer: .spark, cleansUpSpaces: false)
        case "youtu":
            return C(preTokenizer: .youtu, ignoresMerges: true, cleansUpSpaces: false)
        case "jais-2":
            return C(preTokenizer: .jais2)
        case "tekken":
            return C(preTokenizer: .tekken, ignoresMerges: true, addsBOS: true, cleansUpSpaces: false)
        case "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2":
            return C(preTokenizer: .gpt4o, cleansUpSpaces: false)
        case "granite-embed-multi-97m":
            return C(preTokenizer: .graniteMultilingual, ignoresMerges: true, cleansUpSpaces: false)
        case "tiny_aya", "cohere2moe":
            return C(preTokenizer: .tinyAya, cleansUpSpaces: false)
        case "kimi-k2":
            return C(preTokenizer: .kimiK2, cleansUpSpaces: false)
        case "superbpe":
            return C(preTokenizer: .superBPE, cleansUpSpaces: false)
        case "bailingmoe", "bailingmoe2", "llada-moe":
            return C(preTokenizer: .bailingMoE, cleansUpSpaces: false)
        case "seed-coder":
            return C(preTokenizer: .seedCoder, cleansUpSpaces: false)
        case "ufakzeka":
            return C(preTokenizer: .ufakzeka, cleansUpSpaces: false)
        case "afmoe":
            return C(preTokenizer: .afmoe, cleansUpSpaces: false)
        case "laguna":
            return C(preTokenizer: .laguna, cleansUpSpaces: false)
        case "exaone-moe":
            return C(preTokenizer: .exaoneMoE)
        case "minicpm5":
            return C(preTokenizer: .miniCPM5, ignoresMerges: true)
        case "poro-chat":
            return C(preTokenizer: .bloom, cleansUpSpaces: false)
        case "bloom", "gpt3-finnish":
            return C(preTokenizer: .bloom)
        case "viking":
            return C(preTokenizer: .viking, cleansUpSpaces: false)
        case "chameleon":
            return C(preTokenizer: .chameleon, addsBOS: true, cleansUpSpaces: false)
        case "gemma4", "granite-embed-multi-311m":
            return C(preTokenizer: .lines, addsBOS: true, spellsSpacesAsMarker: true, forcesBOS: true)
        case "sarvam-moe":
            return C(preTokenizer: .lines, cleansUpSpaces: false, spellsSpacesAsMarker: true)
        default:
            return nil
        }
    }
}
