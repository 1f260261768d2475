package io.pgolf.data.tokenizer;

/** UTF-8 helpers with SentencePiece's conventions. */
final class Utf8 {
    private Utf8() {
    }

    /** Upper bound of {@link #encode}'s output size for a string of {@code chars} UTF-16 units. */
    static int maxEncodedLength(int chars) {
        return chars * 3;
    }

    /**
     * Writes the UTF-8 form of {@code text} into {@code out} and returns its length. An unpaired surrogate
     * has no UTF-8 form; it becomes U+FFFD, the character SentencePiece substitutes for malformed input
     * (Python's sentencepiece refuses such strings outright).
     */
    static int encode(String text, byte[] out) {
        int n = 0;
        int length = text.length();
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                out[n++] = (byte) c;
            } else if (c < 0x800) {
                out[n++] = (byte) (0xC0 | c >> 6);
                out[n++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                out[n++] = (byte) (0xF0 | cp >> 18);
                out[n++] = (byte) (0x80 | cp >> 12 & 0x3F);
                out[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                out[n++] = (byte) (0x80 | cp & 0x3F);
            } else {
                int cp = Character.isSurrogate(c) ? 0xFFFD : c;
                out[n++] = (byte) (0xE0 | cp >> 12);
                out[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                out[n++] = (byte) (0x80 | cp & 0x3F);
            }
        }
        return n;
    }

    /**
     * Length of the character starting with {@code lead}, judged from the lead byte alone as SentencePiece's
     * OneCharLen does; callers only pass well-formed UTF-8.
     */
    static int charLength(byte lead) {
        int high = (lead & 0xFF) >>> 4;
        return high < 12 ? 1 : high < 14 ? 2 : high == 14 ? 3 : 4;
    }
}
