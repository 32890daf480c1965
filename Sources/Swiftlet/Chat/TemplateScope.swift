/// One level of variables: the template's globals, a loop iteration, a macro call.
final class Scope {
    var variables: [String: TemplateValue] = [:]
    let parent: Scope?

    init(parent: Scope?) { self.parent = parent }

    /// The nearest binding of `name`, or nil.
    func lookup(_ name: String) -> TemplateValue? {
        var scope: Scope? = self
        while let s = scope {
            if let value = s.variables[name] { return value }
            scope = s.parent
        }
        return nil
    }
}
