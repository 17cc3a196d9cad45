import ParleyTokenizer
import Testing

/// BERT text splitting and WordPiece on a tiny hand-made vocabulary (the real vocabulary is checked against the
/// Hugging Face tokenizer in the sentence encoder's tests).
@Suite("WordPiece tokenizer")
struct WordPieceTokenizerTests {
    static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "hello", ",", "!",
                             "cafe", "我", "爱", "猫", "run", "##ning"]

    static func tokenizer(lowercase: Bool = true) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: vocabulary, splitter: BertTextSplitter(lowercase: lowercase))
    }

    @Test func splitsOnSpacePunctuationAndIdeographs() {
        let splitter = BertTextSplitter(lowercase: true)
        #expect(splitter.words("Hello,  World!") == ["hello", ",", "world", "!"])
        #expect(splitter.words("我爱猫") == ["我", "爱", "猫"])
        #expect(splitter.words("Café\tNAÏVE") == ["cafe", "naive"])
        #expect(splitter.words("a\u{0}b\u{200B}c") == ["abc"], "control and format characters are dropped")
        #expect(BertTextSplitter(lowercase: false).words("Café") == ["Café"])
    }

    @Test func longestMatchFirstWithContinuationPieces() throws {
        let t = try Self.tokenizer()
        #expect(t.pieces("unaffable") == [4, 5, 6])
        #expect(t.pieces("Running!") == [14, 15, 9])
        #expect(t.pieces("我爱猫") == [11, 12, 13])
        #expect(t.pieces("unknownword") == [1], "a word that cannot be covered is one [UNK]")
        #expect(t.pieces(String(repeating: "un", count: 60)) == [1], "words over 100 characters are [UNK]")
    }

    @Test func encodeFramesAndTruncates() throws {
        let t = try Self.tokenizer()
        #expect(t.encode("hello, cafe!", maxTokens: 16) == [2, 7, 8, 10, 9, 3])
        #expect(t.encode("hello, cafe!", maxTokens: 4) == [2, 7, 8, 3])
        #expect(t.encode("", maxTokens: 8) == [2, 3])
    }

    @Test func vocabulariesWithoutSpecialTokensAreRefused() {
        #expect(throws: WordPieceTokenizer.LoadError.missingToken("[CLS]")) {
            try WordPieceTokenizer(vocabulary: ["[UNK]", "a"], splitter: BertTextSplitter(lowercase: true))
        }
        #expect(throws: WordPieceTokenizer.LoadError.duplicateToken("a", line: 3)) {
            try WordPieceTokenizer(vocabulary: ["[UNK]", "a", "a"], splitter: BertTextSplitter(lowercase: true))
        }
    }
}
