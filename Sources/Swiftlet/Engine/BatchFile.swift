import Foundation

/// A JSONL batch input file made ready for a `BatchRequestRunner`, in one of two formats,
/// detected per file from its first line that is a JSON object:
///
/// - **OpenAI Batch** (a line with `custom_id`, `method`, `url` or `body`): each line is
///   `{"custom_id", "method": "POST", "url": "/v1/completions" or "/v1/chat/completions",
///   "body"}`, `body` exactly what the server accepts at `url`. Each output line is
///   `{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}` with
///   the completion or chat completion object the server returns as `body`; a line that
///   cannot run has `"response": null` and `"error": {"code", "message"}`.
/// - **flat** (Swiftlet's own): see `BatchRequest` and `BatchRequestRecord`.
///
/// Blank lines are skipped; every other line gets exactly one output line, in input order.
public struct BatchFile: Sendable {
    public enum Format: String, Sendable {
        case flat
        case openAI = "openai"
    }

    /// One non-blank input line.
    public struct Entry: Sendable {
        /// 1-based line number in the file.
        public var lineNumber: Int
        /// `custom_id` (OpenAI) or the id (flat): what `--resume` matches output lines by.
        public var key: String?
        public var job: Result<BatchJob, APIError>
        /// OpenAI lines: how the response body is built (nil for failed and flat lines).
        var plan: APIRequestPlan?
        /// Flat lines: the request id for the record.
        var flatID: BatchRequestID?
    }

    public let format: Format
    public let entries: [Entry]
    /// The model's name in OpenAI response bodies.
    public let modelName: String

    /// Reads `data`.
    /// - Parameters:
    ///   - engine: tokenizes prompts and checks them against its vocabulary and context.
    ///   - chat: renders chat messages.
    ///   - endpoint: OpenAI lines must ask for this endpoint when set (a `/v1/batches` batch's).
    ///   - defaults: flat lines' parameters for the fields they leave out; `seed` gives a flat
    ///     line without one `seed` plus its line number.
    public init(data: Data, engine: Engine, chat: ChatPromptBuilder, modelName: String = "swiftlet",
                endpoint: APIEndpoint? = nil, defaults: GenerationParameters = GenerationParameters(), seed: UInt64? = nil) {
        self.modelName = modelName
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            line.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) ? (number: index + 1, bytes: Data(line)) : nil
        }
        format = Self.detect(lines.map(\.bytes))
        var entries: [Entry] = []
        var seen = Set<String>()
        for (number, bytes) in lines {
            switch format {
            case .flat:
                do {
                    var request = try BatchRequest.parse(line: bytes, lineNumber: number, defaults: defaults)
                    if request.parameters.sampling.seed == nil, let seed { request.parameters.sampling.seed = seed &+ UInt64(number) }
                    entries.append(Entry(lineNumber: number, key: request.id.description,
                                         job: .success(BatchJob(parts: [.init(prompt: request.prompt, parameters: request.parameters)])),
                                         flatID: request.id))
                } catch {
                    let failure = error as? BatchRequestError ?? BatchRequestError(id: .integer(Int64(number)), message: "\(error)")
                    entries.append(Entry(lineNumber: number, key: failure.id.description,
                                         job: .failure(.badRequest(failure.message)), flatID: failure.id))
                }
            case .openAI:
                var entry = Entry(lineNumber: number, key: nil, job: .failure(.badRequest("")))
                do {
                    let line = try OpenAIBatchLine(line: bytes)
                    entry.key = line.customID
                    guard seen.insert(line.customID).inserted else {
                        throw APIError.badRequest("custom_id '\(line.customID)' is used by an earlier line", parameter: "custom_id")
                    }
                    if let endpoint, line.endpoint != endpoint {
                        throw APIError.badRequest("url \(line.endpoint.rawValue) differs from the batch's endpoint \(endpoint.rawValue)", parameter: "url")
                    }
                    let plan = try APIRequestPlan(endpoint: line.endpoint, body: line.body, engine: engine, chat: chat, priority: .batch)
                    entry.plan = plan
                    entry.job = .success(BatchJob(parts: plan.jobs.map { .init(prompt: .tokens($0.promptTokens), parameters: $0.parameters) }))
                } catch let error as APIError {
                    entry.key = entry.key ?? OpenAIBatchLine.customID(in: bytes)
                    entry.job = .failure(error)
                } catch {
                    entry.job = .failure(.badRequest("\(error)"))
                }
                entries.append(entry)
            }
        }
        self.entries = entries
    }

    /// The runner's input, one job per entry.
    public var jobs: [Result<BatchJob, APIError>] { entries.map(\.job) }

    /// The output line of entry `index` (JSON, no newline).
    public func outputLine(for index: Int, outcome: BatchJobOutcome) -> Data {
        let entry = entries[index]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch format {
        case .flat:
            let id = entry.flatID ?? .integer(Int64(entry.lineNumber))
            let record: BatchRequestRecord
            switch outcome {
            case .completed(let results): record = BatchRequestRecord(id: id, outcome: .completed(results[0]))
            case .failed(let error): record = BatchRequestRecord(id: id, outcome: .failed(message: error.message))
            }
            return (try? encoder.encode(record)) ?? Data()
        case .openAI:
            var line: [String: JSONValue] = [
                "id": .string("batch_req_" + Self.randomHex()),
                "custom_id": entry.key.map { .string($0) } ?? .null,
            ]
            switch (outcome, entry.plan) {
            case (.completed(let results), let plan?):
                let requestID = plan.makeResponseID()
                let byIndex = Dictionary(uniqueKeysWithValues: zip(plan.jobs.map(\.index), results))
                let body = plan.response(id: requestID, created: Int(Date().timeIntervalSince1970), model: modelName, results: byIndex)
                line["response"] = .object([
                    "status_code": .integer(200), "request_id": .string(requestID),
                    "body": (try? JSONValue.parse(encodeJSON(body))) ?? .null,
                ])
                line["error"] = .null
            case (.failed(let error), _):
                line["response"] = .null
                line["error"] = .object(["code": .string(error.code ?? error.type), "message": .string(error.message)])
            case (.completed, nil):
                line["response"] = .null
                line["error"] = .object(["code": .string("server_error"), "message": .string("the line has no request")])
            }
            return (try? encoder.encode(JSONValue.object(line))) ?? Data()
        }
    }

    /// Where a killed run left off: the number of leading entries `output` already answers
    /// (its complete lines, each matched to its entry by key) and the bytes they take (a torn
    /// last line, cut by the kill, is not counted).
    /// - Throws: `APIError` (400) when an output line is not JSON or names another entry,
    ///   or when the output has more lines than the input.
    public func resumePoint(output: Data) throws -> (entries: Int, bytes: Int) {
        var count = 0, bytes = 0
        var rest = output[...]
        while let newline = rest.firstIndex(of: 0x0A) {
            let line = rest[rest.startIndex..<newline]
            rest = rest[(newline + 1)...]
            guard count < entries.count else {
                throw APIError.badRequest("the output has more lines than the input has requests")
            }
            let value = try JSONValue.parse(Data(line), what: "output line \(count + 1)")
            let key: String?
            switch (format, value) {
            case (.openAI, .object(let fields)):
                if case .string(let text)? = fields["custom_id"] { key = text } else { key = nil }
            case (.flat, .object(let fields)):
                switch fields["id"] {
                case .string(let text)?: key = text
                case .integer(let number)?: key = String(number)
                case .number(let number)?: key = String(number)
                default: key = nil
                }
            default:
                throw APIError.badRequest("output line \(count + 1) is not a JSON object")
            }
            if let key, let expected = entries[count].key, key != expected {
                throw APIError.badRequest("output line \(count + 1) answers '\(key)', but input line \(entries[count].lineNumber) is '\(expected)': the output was written for another input")
            }
            count += 1
            bytes = newline + 1 - output.startIndex
        }
        return (count, bytes)
    }

    /// OpenAI when the first line that is a JSON object has an OpenAI Batch field.
    static func detect(_ lines: [Data]) -> Format {
        for line in lines {
            guard case .object(let fields)? = try? JSONValue.parse(line) else { continue }
            return ["custom_id", "method", "url", "body"].contains(where: { fields[$0] != nil }) ? .openAI : .flat
        }
        return .flat
    }

    static func randomHex() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

/// One line of an OpenAI Batch input file: `{"custom_id", "method": "POST", "url", "body"}`.
public struct OpenAIBatchLine: Sendable, Equatable {
    public var customID: String
    public var endpoint: APIEndpoint
    public var body: JSONValue

    /// Reads a line.
    /// - Throws: `APIError` (400) naming what is wrong: not JSON, not an object, a missing or
    ///   empty `custom_id`, a method other than POST, an unsupported url, a body that is not
    ///   an object.
    public init(line: Data) throws {
        let reader = try FieldReader(JSONValue.parse(line, what: "the line"), path: "")
        guard let customID = try reader.string("custom_id"), !customID.isEmpty else {
            throw APIError.badRequest("the line needs a custom_id (a non-empty string)", parameter: "custom_id")
        }
        self.customID = customID
        let method = try reader.string("method") ?? "POST"
        guard method.uppercased() == "POST" else {
            throw APIError.badRequest("method must be POST, not \(method)", parameter: "method")
        }
        guard let url = try reader.string("url") else {
            throw APIError.badRequest("the line needs a url (/v1/completions or /v1/chat/completions)", parameter: "url")
        }
        guard let endpoint = APIEndpoint(rawValue: url) else {
            throw APIError.badRequest("url \(url) is not supported (/v1/completions or /v1/chat/completions)", parameter: "url")
        }
        self.endpoint = endpoint
        guard let body = reader.value("body") else { throw APIError.badRequest("the line needs a body", parameter: "body") }
        guard case .object = body else { throw reader.mismatch("body", "an object", body) }
        self.body = body
    }

    /// The line's `custom_id` when it has a readable one, however broken the rest is.
    static func customID(in line: Data) -> String? {
        guard case .object(let fields)? = try? JSONValue.parse(line), case .string(let id)? = fields["custom_id"] else { return nil }
        return id
    }
}
