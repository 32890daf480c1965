/// The parsed form of a template: statements (`TemplateNode`) and expressions (`TemplateExpression`).
indirect enum TemplateExpression {
    case literal(TemplateValue)
    case name(String)
    case list([TemplateExpression])
    case tuple([TemplateExpression])
    case dictionary([(TemplateExpression, TemplateExpression)])
    case attribute(TemplateExpression, String)
    case subscript_(TemplateExpression, TemplateExpression)
    case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?)
    case call(TemplateExpression, [TemplateArgument])
    case filter(TemplateExpression?, String, [TemplateArgument])
    case test(TemplateExpression, String, [TemplateArgument], negated: Bool)
    case unary(String, TemplateExpression)
    case binary(String, TemplateExpression, TemplateExpression)
    case compare(TemplateExpression, [(String, TemplateExpression)])
    case and(TemplateExpression, TemplateExpression)
    case or(TemplateExpression, TemplateExpression)
    case not(TemplateExpression)
    case conditional(TemplateExpression, condition: TemplateExpression, otherwise: TemplateExpression?)
    /// Wraps a sub-expression with its source line for error messages.
    case located(TemplateExpression, line: Int)
}

/// A call argument: positional (`name == nil`), keyword, `*args` or `**kwargs`.
struct TemplateArgument {
    enum Kind { case positional, keyword(String), splat, doubleSplat }
    var kind: Kind
    var value: TemplateExpression
}

/// An assignment target of `for` and `set`.
indirect enum TemplateTarget {
    case name(String)
    case attribute(String, String)  // namespace.attribute
    case tuple([TemplateTarget])
}

/// A macro's parameters and body.
final class MacroDefinition {
    let name: String
    let parameters: [(String, TemplateExpression?)]
    let body: [TemplateNode]
    let line: Int

    init(name: String, parameters: [(String, TemplateExpression?)], body: [TemplateNode], line: Int) {
        self.name = name
        self.parameters = parameters
        self.body = body
        self.line = line
    }
}

/// A statement of the template.
indirect enum TemplateNode {
    case text(String)
    case output(TemplateExpression, line: Int)
    case ifBlock([(TemplateExpression, [TemplateNode])], otherwise: [TemplateNode], line: Int)
    case forLoop(target: TemplateTarget, iterable: TemplateExpression, condition: TemplateExpression?,
                 body: [TemplateNode], otherwise: [TemplateNode], recursive: Bool, line: Int)
    case set(TemplateTarget, TemplateExpression, line: Int)
    case setBlock(TemplateTarget, filters: [(String, [TemplateArgument])], body: [TemplateNode], line: Int)
    case macro(MacroDefinition)
    case callBlock(TemplateExpression, MacroDefinition, line: Int)
    case filterBlock([(String, [TemplateArgument])], body: [TemplateNode], line: Int)
    case generation([TemplateNode])
    case breakLoop(line: Int)
    case continueLoop(line: Int)
}
