/// A piece of the input after special tokens are cut out: raw text (a byte range of the
/// input) or one special token.
enum TextFragment: Equatable {
    case text(Range<Int>)
    case token(Int32)
}

extension Vocabulary {
    /// Cuts the texts of special tokens out of `text`, scanning once from left to right:
    /// at each position the longest special token starting there is taken (leftmost-longest,
    /// as Hugging Face's added-token splitter matches), in time linear in the text however
    /// many special tokens there are (`SpecialTokenMatcher`). Control and unknown tokens are
    /// cut only with `parseSpecial`; user-defined tokens always.
    ///
    /// llama.cpp's `tokenizer_st_partition` instead cuts the longest token everywhere
    /// first, then shorter ones in what is left, at a cost of tokens times text; the two
    /// agree unless two special tokens' texts overlap in the input.
    func fragments(of text: UnsafeRawBufferPointer, parseSpecial: Bool) -> [TextFragment] {
        specialTokenMatcher.fragments(of: text, parseSpecial: parseSpecial)
    }
}
