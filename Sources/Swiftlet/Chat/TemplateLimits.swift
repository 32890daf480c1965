/// Caps that keep a hostile or broken template from hanging or exhausting memory. Reaching
/// one throws a `ChatTemplateError` of kind `.limit`.
public struct TemplateLimits: Sendable, Hashable {
    /// Total loop iterations over the whole render (all `for` loops together).
    public var maxLoopIterations: Int
    /// Deepest nesting of macro calls (and of the call stack they imply).
    public var maxRecursionDepth: Int
    /// Largest output, in UTF-8 bytes; also caps any single string or list built while rendering.
    public var maxOutputBytes: Int

    /// Creates limits.
    public init(maxLoopIterations: Int = 1_000_000, maxRecursionDepth: Int = 200, maxOutputBytes: Int = 32 << 20) {
        self.maxLoopIterations = maxLoopIterations
        self.maxRecursionDepth = maxRecursionDepth
        self.maxOutputBytes = maxOutputBytes
    }

    /// One million loop iterations, 200 nested macro calls, 32 MiB of output.
    public static let `default` = TemplateLimits()
}
