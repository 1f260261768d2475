package io.pgolf.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgolf.testing.SharedFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hand-picked tricky strings, checked against the native spm_encode with the shared models. */
class SentencePieceEdgeCaseTest {
    /** Whitespace, normalization (NFKC compatibility forms, compositions, expansions), scripts, specials. */
    static final List<String> TRICKY = List.of(
            "Hello world",
            "  leading spaces",
            "trailing spaces   ",
            "multiple    inner   spaces",
            "\ttab\tseparated\t",
            "   ",
            "",
            "digits 1234567890 and 3.14159, 2024-05-20",
            "emoji 😀🎉 👍🏽 family 👨‍👩‍👧 flag 🇫🇷",
            "CJK 漢字テスト 한국어 ｶﾀｶﾅ",
            "ligatures ﬁne ﬂow ﬀﬃ",
            "full-width ＡＢＣ１２３ Ｈｅｌｌｏ　Ｗｏｒｌｄ",
            "　　leading ideographic spaces",
            "nbsp\u00a0here, en\u2002space, thin\u2009space",
            "zero\u200bwidth\u200djoiner\ufeffbom",
            "combining e\u0301 vs \u00e9, A\u030a vs \u00c5",
            "spacing diaeresis \u00a8 and macron \u00af alone",
            "circled ① ⑩ ㉑, roman Ⅻ ⅷ, fractions ½ ⅞",
            "arabic ligature \ufdfa expands",
            "squared ㍻ ㎏ ㎒ ™ ℡ …",
            "replacement \ufffd char",
            "controls \u0001\u0007\u007f\u0085 and \r return",
            "mathematical 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛, gothic 𐍈, rare 𣬶 \uDB7B\uDEAF",
            "lower one eighth block ▁ in text ▁",
            "trailing block▁▁",
            "<s> </s> <unk> <pad> <0x41> look like specials",
            "soft\u00adhyphen, ǅ titlecase, straße, İstanbul, µ micro, ſ long s",
            "\u2028line separator\u2029paragraph separator",
            "Ⓐⓑ ⒜ ⑴ ㈱ ㊤",
            "x");

    @ParameterizedTest(name = "sp{0}")
    @ValueSource(ints = {1024, 8192})
    void trickyStringsMatchSpmEncode(int vocab, @TempDir Path work) throws Exception {
        SpmEncode.assumeInstalled();
        Path modelFile = SharedFiles.tokenizer(vocab);
        SentencePieceModel model = SentencePieceModel.load(modelFile);
        List<int[]> expected = SpmEncode.encode(modelFile, TRICKY, work);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < TRICKY.size(); i++) {
            int[] actual = model.encode(TRICKY.get(i));
            if (!Arrays.equals(expected.get(i), actual)) {
                failures.add("'" + TRICKY.get(i) + "': expected " + Arrays.toString(expected.get(i))
                        + " got " + Arrays.toString(actual));
            }
        }
        assertEquals(List.of(), failures);
    }

    /**
     * An unpaired surrogate has no UTF-8 form (Python's sentencepiece rejects it); the encoder reads it as
     * U+FFFD, which is what SentencePiece makes of a malformed byte.
     */
    @Test
    void unpairedSurrogatesEncodeAsTheReplacementCharacter(@TempDir Path work) throws Exception {
        SpmEncode.assumeInstalled();
        Path modelFile = SharedFiles.tokenizer(1024);
        SentencePieceModel model = SentencePieceModel.load(modelFile);
        List<String> withSurrogates = List.of("a\uD800b", "\uDC00 low first", "end high \uDBFF", "\uDC00\uD800");
        List<int[]> expected = SpmEncode.encode(modelFile,
                withSurrogates.stream().map(s -> s.replaceAll("[\\uD800-\\uDFFF]", "\uFFFD")).toList(), work);
        for (int i = 0; i < withSurrogates.size(); i++) {
            assertArrayEquals(expected.get(i), model.encode(withSurrogates.get(i)), withSurrogates.get(i));
        }
    }

    @Test
    void concurrentCallsGiveTheSameIds() throws Exception {
        SentencePieceModel model = SentencePieceModel.load(SharedFiles.tokenizer(8192));
        List<int[]> sequential = TRICKY.stream().map(model::encode).toList();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int round = 0; round < 200; round++) {
                    for (int i = 0; i < TRICKY.size(); i++) {
                        if (!Arrays.equals(sequential.get(i), model.encode(TRICKY.get(i)))) {
                            errors.add(new AssertionError("different ids for '" + TRICKY.get(i) + "'"));
                            return;
                        }
                    }
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(List.of(), errors);
    }
}
