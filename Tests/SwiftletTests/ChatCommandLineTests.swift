import Foundation
import Testing
@testable import Swiftlet

/// Issue 13's chat on the command line: llama.cpp's short flags, `generate --messages` and
/// the ChatML default it falls back to.
@Suite("Command line: short flags and --messages")
struct ChatCommandLineTests {
    struct Output: Decodable {
        let prompt_tokens: [Int32]
        let prompt_text: String?
        let tokens: [Int32]
        let text: String?
    }

    /// The tiny test model carrying Gemma 2's chat template (from ../shared), written to `folder`.
    static func gemmaTemplateModel(in folder: URL) throws -> String {
        let template = try String(contentsOfFile: SharedFixtures.path("chat-templates/google-gemma-2-2b-it.jinja"), encoding: .utf8)
        let bytes = try HostileInput.rewriting(TestModels.tiny(), replacing: [("tokenizer.chat_template", .string(template))])
        return HostileInput.write(bytes, "gemma-template.gguf", in: folder)
    }

    static func decode(_ run: (status: Int32, stdout: String, stderr: String)) throws -> Output {
        try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8))
    }

    @Test func llamaCppShortFlagsMeanTheLongOnes() throws {
        let folder = try HostileInput.folder("short-flags")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = HostileInput.write(TestModels.tiny(), "tiny.gguf", in: folder)
        let long = try runSwiftlet(["generate", "--model", model, "--prompt", "the", "--max-tokens", "6", "--seed", "3",
                                    "--temperature", "0.9", "--threads", "1", "--context", "64", "--ignore-eos", "--json"])
        let short = try runSwiftlet(["generate", "-m", model, "-p", "the", "-n", "6", "-s", "3", "--temp", "0.9", "-t", "1",
                                     "-c", "64", "--ignore-eos", "--json"])
        #expect(long.status == 0 && short.status == 0, "\(long.stderr) \(short.stderr)")
        let (a, b) = (try Self.decode(long), try Self.decode(short))
        #expect(a.tokens.count == 6)
        #expect(a.tokens == b.tokens)
        #expect(a.prompt_tokens == b.prompt_tokens)
        // Each short flag reaches its option: out-of-range values name the long flag.
        let base = ["generate", "-m", model, "-p", "a"]
        for (flags, message) in [(["-n", "0"], "--max-tokens"), (["-t", "0"], "--threads"), (["-c", "1"], "--context"),
                                 (["--temp=-1"], "temperature"), (["-s", "x"], "-s")] {
            let run = try runSwiftlet(base + flags)
            #expect(run.status != 0, "\(flags)")
            #expect(run.stderr.contains(message), "\(flags): \(run.stderr)")
        }
        // A different -s gives a different sample; -n bounds the length.
        let other = try runSwiftlet(["generate", "-m", model, "-p", "the", "-n", "6", "-s", "4", "--temp", "0.9", "--ignore-eos", "--json"])
        #expect(try Self.decode(other).tokens != a.tokens)
        // The aliases are listed in every subcommand's help where they apply.
        for (command, flags) in [("generate", ["-m, --model", "-p, --prompt", "-n, --max-tokens", "-t, --threads", "-c, --context", "-s, --seed", "--temp"]),
                                 ("chat", ["-m, --model", "-n, --max-tokens", "-c, --context", "--temp"]),
                                 ("batch", ["-m, --model", "-n, --max-tokens", "-s, --seed"]),
                                 ("serve", ["-m, --model", "-t, --threads", "-c, --context", "-a, --served-model-name"]),
                                 ("perplexity", ["-m, --model", "-f, --file", "-c, --context"]),
                                 ("bench", ["-m, --model", "-p, --prompt-length", "-n, --gen-length"]),
                                 ("inspect", ["-m, --model"]), ("tokenize", ["-m, --model"])] {
            let help = try runSwiftlet([command, "--help"])
            for flag in flags { #expect(help.stdout.contains(flag), "\(command) --help lacks \(flag)") }
        }
        let inspect = try runSwiftlet(["inspect", "-m", model])
        #expect(inspect.status == 0 && inspect.stdout.contains("vocabulary: 300 tokens"))
    }

    /// A model without a template gets the documented ChatML default; `--json` shows it.
    @Test func messagesFileRendersTheDefaultTemplate() throws {
        let folder = try HostileInput.folder("messages")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = HostileInput.write(TestModels.tiny(), "tiny.gguf", in: folder)
        let messages = HostileInput.write(Array("""
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "the tea"},
             {"role": "assistant", "content": [{"type": "text", "text": "an"}, {"type": "text", "text": "ode"}]},
             {"role": "user", "content": "again"}]
            """.utf8), "messages.json", in: folder)
        let run = try runSwiftlet(["generate", "-m", model, "--messages", messages, "-n", "4", "--temp", "0", "--ignore-eos", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try Self.decode(run)
        let expected = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nthe tea<|im_end|>\n"
            + "<|im_start|>assistant\nanode<|im_end|>\n<|im_start|>user\nagain<|im_end|>\n<|im_start|>assistant\n"
        #expect(output.prompt_text == expected)
        let tokenizer = try makeTokenizer(from: TestModels.load(TestModels.tiny()).metadata!)
        #expect(output.prompt_tokens == tokenizer.encode(expected, addSpecialTokens: true, parseSpecial: true))
        #expect(output.tokens.count == 4)
        // --prompt keeps its text; --prompt-tokens has none.
        let text = try Self.decode(runSwiftlet(["generate", "-m", model, "-p", "the", "-n", "1", "--json"]))
        #expect(text.prompt_text == "the")
        let ids = try Self.decode(runSwiftlet(["generate", "-m", model, "--prompt-tokens", "1,5", "-n", "1", "--json"]))
        #expect(ids.prompt_text == nil)
    }

    /// A model file that carries a real template renders it (Gemma 2's: it writes BOS itself,
    /// so none is added twice, and it refuses a system role with the template's own message).
    @Test(.enabled(if: SharedFixtures.available, SharedFixtures.skipMessage))
    func messagesFileRendersTheModelsOwnTemplate() throws {
        let folder = try HostileInput.folder("messages-template")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try ChatCommandLineTests.gemmaTemplateModel(in: folder)
        let messages = HostileInput.write(Array(#"[{"role": "user", "content": "the tea"}]"#.utf8), "user.json", in: folder)
        let run = try runSwiftlet(["generate", "-m", model, "--messages", messages, "-n", "2", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try Self.decode(run)
        #expect(output.prompt_text == "<s><start_of_turn>user\nthe tea<end_of_turn>\n<start_of_turn>model\n")
        #expect(output.prompt_tokens.first == 1 && output.prompt_tokens.dropFirst().first != 1)
        let system = HostileInput.write(Array(#"[{"role": "system", "content": "x"}, {"role": "user", "content": "y"}]"#.utf8),
                                        "system.json", in: folder)
        let refused = try runSwiftlet(["generate", "-m", model, "--messages", system, "-n", "2"])
        #expect(refused.status != 0 && refused.status < 128)
        #expect(refused.stderr.contains("System role not supported"), "\(refused.stderr)")
        // --chat-template overrides the file's template.
        let chatML = HostileInput.write(Array(ChatTemplate.chatMLSource.utf8), "chatml.jinja", in: folder)
        let overridden = try Self.decode(runSwiftlet(["generate", "-m", model, "--messages", messages, "--chat-template", chatML, "-n", "1", "--json"]))
        #expect(overridden.prompt_text == "<|im_start|>user\nthe tea<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func badMessagesGiveOneErrorLine() throws {
        let folder = try HostileInput.folder("bad-messages")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = HostileInput.write(TestModels.tiny(), "tiny.gguf", in: folder)
        let broken = HostileInput.write(Array("{% for".utf8), "broken.jinja", in: folder)
        let good = HostileInput.write(Array(#"[{"role": "user", "content": "hi"}]"#.utf8), "good.json", in: folder)
        let cases: [(String, String)] = [
            ("not json", "not valid JSON"),
            (#"{"role": "user"}"#, "JSON array"),
            ("[]", "no messages"),
            (#"[{"content": "hi"}]"#, "no \"role\""),
            (#"[{"role": "user", "content": 5}]"#, "neither a string"),
            (#"[{"role": "user", "content": [{"type": "image_url"}]}]"#, "content part"),
        ]
        for (index, (json, message)) in cases.enumerated() {
            let file = HostileInput.write(Array(json.utf8), "m\(index).json", in: folder)
            let run = try runSwiftlet(["generate", "-m", model, "--messages", file, "-n", "1"])
            #expect(run.status != 0 && run.status < 128, "\(json)")
            #expect(run.stderr.contains(message), "\(json): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        for (arguments, message) in [(["--messages", "/nonexistent.json"], "no such file"),
                                     (["--messages", good, "-p", "x"], "exactly one of --prompt, --prompt-tokens or --messages"),
                                     (["--messages", good, "--chat-template", broken], "does not parse"),
                                     (["-p", "x", "--chat-template", broken], "--chat-template needs --messages")] {
            let run = try runSwiftlet(["generate", "-m", model, "-n", "1"] + arguments)
            #expect(run.status != 0 && run.status < 128, "\(arguments)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
    }
}
