package io.pgolf.deploy;

import io.pgolf.data.shard.Shards;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.RunStarted;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The files a run reads, identified by their SHA-256, and the {@link RunStarted} that lists them as the first entry of
 * the run's journal, so that a replay can check it reads the same bytes.
 */
final class RunInputs {
    /** The journal's sender of RunStarted: the command, before any actor runs; its recipient is the run's guardian. */
    private static final String SENDER = "pgolf";
    private static final String GUARDIAN = "/user";

    private RunInputs() {
    }

    /** @throws NoSuchFileException naming the file and its role when it is not there */
    static InputFile hash(InputRole role, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such " + describe(role) + " file");
        }
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        return new InputFile(role, file.toString(), Files.size(file), HexFormat.of().formatHex(digest.digest()));
    }

    /** A role in words: "val shard", "tokenizer". */
    static String describe(InputRole role) {
        return role.name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }

    static List<InputFile> hashAll(InputRole role, List<Path> files) throws IOException {
        List<InputFile> hashed = new ArrayList<>();
        for (Path file : files) {
            hashed.add(hash(role, file));
        }
        return hashed;
    }

    static List<InputFile> validationShards(Path dataset) throws IOException {
        return hashAll(InputRole.VAL_SHARD, Shards.list(dataset, "val"));
    }

    /**
     * @param command       the command line that started the run
     * @param configListing the resolved configuration as config.conf holds it
     * @param valTokens     the validation tokens the run scores, or empty for all of them
     */
    static RunStarted started(String command, String configListing, String backend, int threads,
                              Optional<Long> valTokens, List<InputFile> inputs) {
        return new RunStarted(Invocation.VERSION, command, configListing, backend, threads, valTokens.orElse(0L),
                inputs);
    }

    /** Journals the run's start; it must be the journal's first entry. */
    static void journal(MessageJournal journal, RunStarted started) throws IOException {
        journal.append(SENDER, GUARDIAN, started);
    }
}
