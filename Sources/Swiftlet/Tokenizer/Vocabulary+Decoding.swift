extension Vocabulary {
    /// Appends the bytes token `id` decodes to (llama.cpp's `token_to_piece`): nothing for ids
    /// outside the vocabulary, and nothing for control and unknown tokens unless
    /// `rendersSpecialTokens`. With `stripsLeadingSpace`, one leading space is dropped.
    public func appendPiece(of id: Int32, rendersSpecialTokens: Bool, stripsLeadingSpace: Bool, to bytes: inout [UInt8]) {
        guard id >= 0, Int(id) < count else { return }
        if !rendersSpecialTokens && !attributes[Int(id)].isDisjoint(with: TokenAttributes.hiddenUnlessRendered) {
            return
        }
        var piece = pieces.bytes(at: Int(id))
        if stripsLeadingSpace && piece.first == UInt8(ascii: " ") {
            piece = piece.dropFirst()
        }
        bytes.append(contentsOf: piece)
    }

    /// The bytes `ids` decode to (llama.cpp's `llama_detokenize`).
    public func decodeBytes(_ ids: [Int32], options: DecodingOptions = DecodingOptions()) -> [UInt8] {
        var ids = ids[...]
        var stripsLeadingSpace = addsSpacePrefix && options.startsText
        if options.removesAddedSpecialTokens {
            if addsBOS, let bos = specialTokens.bos, ids.first == bos {
                stripsLeadingSpace = false
                ids = ids.dropFirst()
            }
            if addsEOS, let eos = specialTokens.eos, ids.last == eos {
                ids = ids.dropLast()
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            appendPiece(of: id, rendersSpecialTokens: options.rendersSpecialTokens,
                        stripsLeadingSpace: stripsLeadingSpace, to: &bytes)
            stripsLeadingSpace = false
        }
        if options.cleansUpSpaces && cleansUpSpaces {
            bytes = Self.cleanUpSpaces(bytes)
        }
        return bytes
    }

    /// The text `ids` decode to; bytes that are not valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int32], options: DecodingOptions = DecodingOptions()) -> String {
        String(decoding: decodeBytes(ids, options: options), as: UTF8.self)
    }

    // MARK: - Pieces

    /// The decoded bytes of every token, with special tokens as their text.
    static func makePieces(model: TokenizerModel, texts: ByteStringTable, attributes: [TokenAttributes]) -> ByteStringTable {
        var pieces = ByteStringTable(capacity: 16)
        for index in 0..<texts.count {
            let text = texts.bytes(at: index)
            let attribute = attributes[index]
            if !attribute.isDisjoint(with: [.control, .unknown, .userDefined]) {
                pieces.append(text)
            } else if attribute.contains(.normal) {
                switch model {
                case .sentencePiece: pieces.append(unescapingSpaces(text))
                case .byteLevelBPE: pieces.append(byteLevelDecoded(text))
                }
            } else if attribute.contains(.byte) {
                pieces.append([byteValue(ofByteToken: text)])
            } else {
                pieces.append([UInt8]())  // unused and undefined tokens decode to nothing
            }
        }
        return pieces
    }

    /// `text` with every `▁` (U+2581) turned into a space.
    static func unescapingSpaces(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == 0xE2 && i + 2 < text.endIndex && text[i + 1] == 0x96 && text[i + 2] == 0x81 {
                result.append(UInt8(ascii: " "))
                i += 3
            } else {
                result.append(text[i])
                i += 1
            }
        }
        return result
    }

    /// The bytes a byte-level BPE token text stands for. A character outside the 256-byte
    /// alphabet is written as llama.cpp writes it: `[UNK_BYTE_0x<hex>` + the whole text + `]`.
    /// That marker repeats the text once per such character, which is quadratic in a long
    /// token of them; so once a token's piece reaches `unknownMarkerBudget(for:)` bytes, its
    /// further such characters are kept as their own UTF-8 bytes. Pieces then take at most
    /// `17 × text + 256` bytes: loading stays linear in the vocabulary's size.
    static func byteLevelDecoded(_ text: ArraySlice<UInt8>) -> [UInt8] {
        let budget = unknownMarkerBudget(for: text.count)
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            // The alphabet is U+0021...U+0143: one or two UTF-8 bytes.
            let lead = text[i]
            if lead < 0x80, let byte = ByteLevelEncoding.byte(for: Unicode.Scalar(lead)) {
                result.append(byte)
                i += 1
                continue
            }
            if lead & 0xE0 == 0xC0, i + 1 < text.endIndex, text[i + 1] & 0xC0 == 0x80 {
                let value = UInt32(lead & 0x1F) << 6 | UInt32(text[i + 1] & 0x3F)
                if let scalar = Unicode.Scalar(value), let byte = ByteLevelEncoding.byte(for: scalar) {
                    result.append(byte)
                    i += 2
                    continue
                }
            }
            // Any other character: llama.cpp's marker, then go on after the character.
            var end = i + 1
            while end < text.endIndex && text[end] & 0xC0 == 0x80 { end += 1 }
            if result.count + 13 + 2 * (end - i) + text.count > budget {
                result.append(contentsOf: text[i..<end])
                i = end
                continue
            }
            result.append(contentsOf: "[UNK_BYTE_0x".utf8)
            for byte in text[i..<end] { result.append(contentsOf: hexDigits(byte, uppercase: false)) }
            result.append(contentsOf: text)
            result.append(UInt8(ascii: "]"))
            i = end
        }
        return result
    }

    /// The most bytes the piece of a byte-level token of `length` bytes may take with
    /// llama.cpp's markers for characters outside the alphabet.
    static func unknownMarkerBudget(for length: Int) -> Int {
        16 * length + 256
    }

    /// The byte a byte token such as `<0x0A>` stands for: the hexadecimal digits at offset 3
    /// (up to two; llama.cpp reads them with `strtol`).
    static func byteValue(ofByteToken text: ArraySlice<UInt8>) -> UInt8 {
        var value: UInt8 = 0
        var i = text.startIndex + 3
        while i < text.endIndex && i < text.startIndex + 5, let digit = hexValue(text[i]) {
            value = value &* 16 &+ digit
            i += 1
        }
        return value
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func hexDigits(_ byte: UInt8, uppercase: Bool) -> [UInt8] {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        return [digits[Int(byte >> 4)], digits[Int(byte & 15)]]
    }

    // MARK: - Clean-up of spaces

    /// The clean-up of `clean_up_tokenization_spaces`, in llama.cpp's three passes: drop a
    /// space before `?`, `!`, `.` or `,`; turn `" ' "` into `"'"`; drop the space before
    /// `'s`, `'m`, `'re` and `'ve`.
    static func cleanUpSpaces(_ input: [UInt8]) -> [UInt8] {
        let space = UInt8(ascii: " ")
        let quote = UInt8(ascii: "'")

        // Pass 1: " ?", " !", " .", " ," lose the space.
        var text: [UInt8] = []
        text.reserveCapacity(input.count)
        for (i, c) in input.enumerated() {
            if i > 0 && input[i - 1] == space && (c == UInt8(ascii: "?") || c == UInt8(ascii: "!")
                || c == UInt8(ascii: ".") || c == UInt8(ascii: ",")) {
                text.removeLast()
            }
            text.append(c)
        }

        // Pass 2: " ' " becomes "'"; the space after it is consumed and counts as no space.
        var pass2: [UInt8] = []
        pass2.reserveCapacity(text.count)
        var previousConsumed = false
        var i = 0
        while i < text.count {
            let c = text[i]
            if i > 0 && c == quote && i + 1 < text.count && !previousConsumed && text[i - 1] == space
                && text[i + 1] == space {
                pass2.removeLast()
                pass2.append(c)
                i += 2
                previousConsumed = true
                continue
            }
            pass2.append(c)
            previousConsumed = false
            i += 1
        }

        // Pass 3: " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
        var result: [UInt8] = []
        result.reserveCapacity(pass2.count)
        for (i, c) in pass2.enumerated() {
            if i > 0 && pass2[i - 1] == space && c == quote && i + 1 < pass2.count {
                let next = pass2[i + 1]
                if next == UInt8(ascii: "s") || next == UInt8(ascii: "m") {
                    result.removeLast()
                } else if i + 2 < pass2.count {
                    let after = pass2[i + 2]
                    if (next == UInt8(ascii: "r") && after == UInt8(ascii: "e"))
                        || (next == UInt8(ascii: "v") && after == UInt8(ascii: "e")) {
                        result.removeLast()
                    }
                }
            }
            result.append(c)
        }
        return result
    }
}
