import Foundation
import Swiftlet

/// A `multipart/form-data` body (RFC 7578), as `POST /v1/files` receives it: named parts,
/// each with an optional file name and its bytes.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var data: Data
    }

    var parts: [Part]

    /// The first part named `name`.
    func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// Parses `body` sent with `contentType`.
    /// - Throws: `APIError` (400) when the type is not multipart/form-data with a boundary,
    ///   or the body is not made of parts between that boundary.
    init(body: Data, contentType: String?) throws {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else {
            throw APIError.badRequest("the body must be multipart/form-data")
        }
        guard let boundary = Self.parameter("boundary", in: contentType), !boundary.isEmpty, boundary.count <= 200 else {
            throw APIError.badRequest("the multipart/form-data content type has no boundary")
        }
        let delimiter = Data("--\(boundary)".utf8)
        let crlf = Data("\r\n".utf8)
        guard var cursor = body.range(of: delimiter)?.upperBound else {
            throw APIError.badRequest("the body has no part delimited by the boundary")
        }
        var parts: [Part] = []
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if body[cursor...].starts(with: Data("--".utf8)) { break }
            guard body[cursor...].starts(with: crlf) else { throw APIError.badRequest("malformed multipart body") }
            cursor += 2
            guard let headerEnd = body.range(of: Data("\r\n\r\n".utf8), in: cursor..<body.endIndex) else {
                throw APIError.badRequest("a multipart part has no end of headers")
            }
            let headers = String(decoding: body[cursor..<headerEnd.lowerBound], as: UTF8.self)
            guard let next = body.range(of: crlf + delimiter, in: headerEnd.upperBound..<body.endIndex) else {
                throw APIError.badRequest("a multipart part is not closed by the boundary")
            }
            var name: String?, filename: String?
            for line in headers.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                name = Self.parameter("name", in: line)
                filename = Self.parameter("filename", in: line)
            }
            guard let name else { throw APIError.badRequest("a multipart part has no name") }
            parts.append(Part(name: name, filename: filename, data: Data(body[headerEnd.upperBound..<next.lowerBound])))
            cursor = next.upperBound
        }
        self.parts = parts
    }

    /// `key=value` or `key="value"` among the `;`-separated parameters of a header value.
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.trimmingCharacters(in: .whitespaces)
            guard let equals = pair.firstIndex(of: "="), pair[..<equals].lowercased() == key else { continue }
            var value = String(pair[pair.index(after: equals)...])
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
