package io.pgolf.data.shard;

import io.pgolf.protocol.Tokens;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Finds a split's shards in a dataset directory and assembles the validation token stream. */
public final class Shards {
    private Shards() {
    }

    /** The shard file name for {@code split} and {@code index}, e.g. {@code fineweb_train_000003.bin}. */
    public static String fileName(String split, int index) {
        checkSplit(split);
        if (index < 0 || index > 999_999) {
            throw new IllegalArgumentException("shard index " + index + " outside [0, 999999]");
        }
        return "fineweb_%s_%06d.bin".formatted(split, index);
    }

    /** {@code dir}'s {@code fineweb_<split>_*.bin} files sorted by name, as the reference's sorted glob; throws if there are none. */
    public static List<Path> list(Path dir, String split) throws IOException {
        checkSplit(split);
        String pattern = "fineweb_" + split + "_*.bin";
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, pattern)) {
            stream.forEach(files::add);
        }
        if (files.isEmpty()) {
            throw new NoSuchFileException(dir.toString(), null, "no shard matches " + pattern);
        }
        files.sort(null);
        return files;
    }

    /**
     * All validation shards of {@code dir} concatenated and cut to a whole number of {@code seqLen} windows plus the
     * one token that the last window's final target needs.
     */
    public static Tokens validationTokens(Path dir, int seqLen) throws IOException {
        if (seqLen <= 0) {
            throw new IllegalArgumentException("seqLen must be positive, got " + seqLen);
        }
        List<Path> files = list(dir, "val");
        long total = 0;
        for (Path file : files) {
            total += Shard.readCount(file);
        }
        long usable = total <= 0 ? 0 : (total - 1) / seqLen * seqLen;
        if (usable <= 0) {
            throw new IllegalArgumentException("validation split in " + dir + " has " + total
                    + " tokens, fewer than seqLen + 1 = " + ((long) seqLen + 1));
        }
        if (usable + 1 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("validation split in " + dir + " has " + total + " tokens, too many for one array");
        }
        char[] tokens = new char[(int) usable + 1];
        int filled = 0;
        for (Path file : files) {
            if (filled == tokens.length) {
                break;
            }
            try (Shard shard = Shard.open(file)) {
                int take = Math.min(shard.count(), tokens.length - filled);
                shard.copyTo(0, tokens, filled, take);
                filled += take;
            }
        }
        return Tokens.adopt(tokens);
    }

    private static void checkSplit(String split) {
        if (!split.equals("train") && !split.equals("val")) {
            throw new IllegalArgumentException("split must be \"train\" or \"val\", got \"" + split + "\"");
        }
    }
}
