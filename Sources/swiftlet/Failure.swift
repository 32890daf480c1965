/// A failure reported as one line, "Error: <description>".
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
