import Foundation

/// A chat template (the Jinja subset real models ship in GGUF `tokenizer.chat_template`),
/// parsed once and rendered in a sandbox: no file, network or environment access, and
/// `TemplateLimits` caps on loop iterations, macro recursion and output size.
///
/// Rendering matches HuggingFace transformers' `apply_chat_template` (Jinja's
/// `ImmutableSandboxedEnvironment` with `trim_blocks` and `lstrip_blocks`, `tojson` as
/// `json.dumps(ensure_ascii=False)`, `raise_exception`, `strftime_now`, loop controls and
/// the `generation` tag).
public struct ChatTemplate: Sendable {
    /// The template text as given.
    public let source: String
    private let parsed: ParsedTemplate
    /// The clock behind `strftime_now` (the current date by default; inject one for tests).
    public var now: @Sendable () -> Date = { Date() }

    /// Parses `source` (a Jinja template, e.g. GGUF `tokenizer.chat_template`); throws
    /// `ChatTemplateError` (kind `.syntax`) with the line of the problem.
    public init(source: String) throws {
        self.source = source
        parsed = ParsedTemplate(nodes: try TemplateStack.run { try TemplateParser.parse(source) })
    }

    /// The documented default used when a model file has no template: ChatML,
    /// `<|im_start|>role\ncontent<|im_end|>\n` per message and the generation prompt
    /// `<|im_start|>assistant\n`.
    public static let defaultTemplate: ChatTemplate = {
        do {
            return try ChatTemplate(source: ChatTemplate.chatMLSource)
        } catch {
            fatalError("the built-in ChatML template does not parse: \(error)")
        }
    }()

    /// The source of `defaultTemplate`.
    public static let chatMLSource = """
        {%- for message in messages -%}
        {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
        {{- '<|im_start|>assistant\\n' -}}
        {%- endif -%}
        """

    /// Renders messages. `bosToken`/`eosToken` are exposed as `bos_token`/`eos_token`;
    /// `add_generation_prompt` is set, and `tools` and `documents` are `none`, as
    /// transformers passes them.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
                       limits: TemplateLimits = .default) throws -> String {
        try render(context: [
            "messages": .array(messages.map(\.templateValue)),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "tools": .none,
            "documents": .none,
        ], limits: limits)
    }

    /// Renders with any variables: messages as dictionaries (with `tool_calls`, content
    /// parts, ...), `tools`, `add_generation_prompt`, special tokens, template options such
    /// as `enable_thinking`. Names not given are undefined.
    public func render(context: [String: TemplateValue], limits: TemplateLimits = .default) throws -> String {
        let nodes = parsed.nodes
        let now = self.now
        return try TemplateStack.run {
            let interpreter = TemplateInterpreter(context: context, limits: limits, now: now)
            do {
                return try interpreter.render(nodes)
            } catch let failure as TemplateFailure {
                throw ChatTemplateError(failure.kind, failure.message, line: 0)
            }
        }
    }
}

/// The parsed statements; immutable once built, so safe to share between threads.
private final class ParsedTemplate: @unchecked Sendable {
    let nodes: [TemplateNode]
    init(nodes: [TemplateNode]) { self.nodes = nodes }
}
