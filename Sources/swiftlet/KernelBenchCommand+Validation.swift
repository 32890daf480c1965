import ArgumentParser
import Swiftlet

extension KernelBenchCommand {
    /// Checks every size flag before `run()` multiplies them into buffer sizes.
    func validate() throws {
        try FlagRange.check(threads, "--threads", 1...256)
        guard let type = GGMLType.allCases.first(where: { $0.name.lowercased() == format.lowercased() }), WeightFormat(type) != nil else {
            throw ValidationError("--format must be one of \(WeightFormat.supportedNames)")
        }
        try FlagRange.check(context, "--context", 1...(1 << 20))
        try FlagRange.check(queryTokens, "--query-tokens", 1...65536)
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be more than 0 and at most 3600") }
        var largestSide = 0
        for part in shapes.split(separator: ",") {
            let dims = part.split(separator: "x").map { Int($0) }
            guard dims.count == 2, let n = dims[0], let k = dims[1] else { throw ValidationError("--shapes: bad shape '\(part)' (expected OUTxIN)") }
            try FlagRange.check(n, "--shapes (OUT of '\(part)')", 1...(1 << 20))
            try FlagRange.check(k, "--shapes (IN of '\(part)')", 1...(1 << 20))
            guard n * k <= 1 << 30 else { throw ValidationError("--shapes: '\(part)' has more than 2^30 weights") }
            largestSide = max(largestSide, n, k)
        }
        for part in rows.split(separator: ",") {
            guard let m = Int(part) else { throw ValidationError("--rows: '\(part)' is not a count") }
            try FlagRange.check(m, "--rows", 1...65536)
            guard m * largestSide <= 1 << 30 else { throw ValidationError("--rows \(m) with --shapes '\(shapes)' needs more than 2^30 activations") }
        }
        let dims = heads.split(separator: "x").map { Int($0) }
        guard dims.count == 3, let h = dims[0], let kv = dims[1], let d = dims[2] else {
            throw ValidationError("bad --heads '\(heads)' (expected HxKxD)")
        }
        try FlagRange.check(h, "--heads (H)", 1...4096)
        try FlagRange.check(kv, "--heads (K)", 1...4096)
        try FlagRange.check(d, "--heads (D)", 1...4096)
    }
}
