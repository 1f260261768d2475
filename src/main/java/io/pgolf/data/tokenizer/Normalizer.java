package io.pgolf.data.tokenizer;

import java.util.Arrays;

/**
 * SentencePiece's text normalizer: rewrites the input with the longest matching rule of the precompiled
 * charsmap (e.g. nmt_nfkc), drops leading, trailing and repeated spaces when asked, and writes spaces as
 * U+2581 when asked. User-defined pieces are copied without normalization.
 */
final class Normalizer {
    private static final byte SPACE = ' ';
    private static final byte[] SPACE_SYMBOL = {(byte) 0xE2, (byte) 0x96, (byte) 0x81};

    /** Rules: a trie from input byte sequences to offsets of NUL-terminated outputs in {@code outputs}. */
    private final DoubleArrayTrie rules;
    private final byte[] outputs;
    private final UserSymbols userSymbols;
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final boolean treatWhitespaceAsSuffix;

    private Normalizer(DoubleArrayTrie rules, byte[] outputs, UserSymbols userSymbols, ModelProto.NormalizerSpec spec,
                       boolean treatWhitespaceAsSuffix) {
        this.rules = rules;
        this.outputs = outputs;
        this.userSymbols = userSymbols;
        this.addDummyPrefix = spec.addDummyPrefix();
        this.removeExtraWhitespaces = spec.removeExtraWhitespaces();
        this.escapeWhitespaces = spec.escapeWhitespaces();
        this.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix;
    }

    /**
     * Builds the normalizer of a model. The precompiled charsmap is a uint32 LE trie size, the trie, then
     * the NUL-terminated output strings; an empty charsmap means no rewriting rule.
     */
    static Normalizer create(ModelProto.NormalizerSpec spec, boolean treatWhitespaceAsSuffix, UserSymbols userSymbols) {
        byte[] blob = spec.precompiledCharsmap();
        if (blob.length == 0) {
            return new Normalizer(null, new byte[0], userSymbols, spec, treatWhitespaceAsSuffix);
        }
        if (blob.length <= 4) {
            throw new IllegalArgumentException("precompiled_charsmap of " + blob.length + " bytes is too short");
        }
        long trieSize = (blob[0] & 0xFFL) | (blob[1] & 0xFFL) << 8 | (blob[2] & 0xFFL) << 16 | (blob[3] & 0xFFL) << 24;
        if (trieSize > blob.length - 4) {
            throw new IllegalArgumentException("precompiled_charsmap claims a trie of " + trieSize
                    + " bytes but holds only " + (blob.length - 4));
        }
        DoubleArrayTrie trie = DoubleArrayTrie.fromLittleEndian(blob, 4, (int) trieSize);
        byte[] outputs = Arrays.copyOfRange(blob, 4 + (int) trieSize, blob.length);
        int lastNul = outputs.length - 1;
        while (lastNul >= 0 && outputs[lastNul] != 0) {
            lastNul--;
        }
        if (trie.maxValue() > lastNul) {
            throw new IllegalArgumentException("precompiled_charsmap has a rule whose output at offset "
                    + trie.maxValue() + " is not NUL-terminated within " + outputs.length + " bytes");
        }
        return new Normalizer(trie, outputs, userSymbols, spec, treatWhitespaceAsSuffix);
    }

    /** Normalizes well-formed UTF-8 {@code text[0, length)}. */
    byte[] normalize(byte[] text, int length) {
        Rewrite rewrite = new Rewrite();
        int pos = 0;
        if (removeExtraWhitespaces) {
            while (pos < length) {
                rewrite(text, pos, length, rewrite);
                if (rewrite.length != 1 || rewrite.source[rewrite.offset] != SPACE) {
                    break;
                }
                pos += rewrite.consumed;
            }
        }
        if (pos == length) {
            return new byte[0];
        }
        // SentencePiece's reservation; the buffer grows when rules expand more (U+FDFA becomes 33 bytes).
        Output out = new Output((length - pos) * 3 + SPACE_SYMBOL.length);
        if (addDummyPrefix && !treatWhitespaceAsSuffix) {
            appendSpace(out);
        }
        boolean previousIsSpace = removeExtraWhitespaces;
        while (pos < length) {
            rewrite(text, pos, length, rewrite);
            byte[] source = rewrite.source;
            int from = rewrite.offset;
            int to = from + rewrite.length;
            if (previousIsSpace) {
                while (from < to && source[from] == SPACE) {
                    from++;
                }
            }
            if (from < to) {
                out.ensureRoom((to - from) * SPACE_SYMBOL.length);
                for (int i = from; i < to; i++) {
                    if (source[i] == SPACE && escapeWhitespaces) {
                        out.appendUnchecked(SPACE_SYMBOL);
                    } else {
                        out.bytes[out.size++] = source[i];
                    }
                }
                previousIsSpace = source[to - 1] == SPACE;
            }
            pos += rewrite.consumed;
            if (!removeExtraWhitespaces) {
                previousIsSpace = false;
            }
        }
        if (removeExtraWhitespaces) {
            out.stripTrailing(escapeWhitespaces ? SPACE_SYMBOL : new byte[] {SPACE});
        }
        if (addDummyPrefix && treatWhitespaceAsSuffix) {
            appendSpace(out);
        }
        return Arrays.copyOf(out.bytes, out.size);
    }

    private void appendSpace(Output out) {
        out.ensureRoom(SPACE_SYMBOL.length);
        if (escapeWhitespaces) {
            out.appendUnchecked(SPACE_SYMBOL);
        } else {
            out.bytes[out.size++] = SPACE;
        }
    }

    /** Finds what the text at {@code pos} becomes: a user-defined piece, a rule's output, or one character. */
    private void rewrite(byte[] text, int pos, int length, Rewrite rewrite) {
        if (userSymbols != null) {
            int matched = userSymbols.match(text, pos, length);
            if (matched > 0) {
                rewrite.set(text, pos, matched, matched);
                return;
            }
        }
        if (rules != null) {
            long match = rules.longestPrefix(text, pos, length);
            if (match >= 0) {
                int start = (int) match;
                int end = start;
                while (outputs[end] != 0) {
                    end++;
                }
                rewrite.set(outputs, start, end - start, (int) (match >>> 32));
                return;
            }
        }
        int charLength = Math.min(Utf8.charLength(text[pos]), length - pos);
        rewrite.set(text, pos, charLength, charLength);
    }

    /** One rewriting step: {@code consumed} input bytes become {@code source[offset, offset + length)}. */
    private static final class Rewrite {
        byte[] source;
        int offset;
        int length;
        int consumed;

        void set(byte[] source, int offset, int length, int consumed) {
            this.source = source;
            this.offset = offset;
            this.length = length;
            this.consumed = consumed;
        }
    }

    private static final class Output {
        byte[] bytes;
        int size;

        Output(int capacity) {
            bytes = new byte[capacity];
        }

        void ensureRoom(int extra) {
            if (size + extra > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(size + extra, bytes.length * 2));
            }
        }

        void appendUnchecked(byte[] run) {
            System.arraycopy(run, 0, bytes, size, run.length);
            size += run.length;
        }

        void stripTrailing(byte[] suffix) {
            while (size >= suffix.length
                    && Arrays.equals(bytes, size - suffix.length, size, suffix, 0, suffix.length)) {
                size -= suffix.length;
            }
        }
    }
}
