package io.pgolf.deploy;

import io.pgolf.data.corpus.ShardPublisher;
import io.pgolf.data.loader.TrainBatchLoader;
import io.pgolf.data.shard.Shards;
import io.pgolf.protocol.DataPrepared;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.RunStarted;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
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
        return new InputFile(role, file.toString(), Files.size(file), ShardPublisher.sha256(file));
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

    /** The training shards rank {@code rank} of {@code worldSize} reads, then every validation shard. */
    static List<InputFile> shards(Path dataset, int rank, int worldSize) throws IOException {
        List<InputFile> shards = new ArrayList<>(hashAll(InputRole.TRAIN_SHARD,
                TrainBatchLoader.filesOfRank(Shards.list(dataset, "train"), rank, worldSize)));
        shards.addAll(validationShards(dataset));
        return shards;
    }

    static List<InputFile> validationShards(Path dataset) throws IOException {
        return hashAll(InputRole.VAL_SHARD, Shards.list(dataset, "val"));
    }

    /** A prepare stage's outcome with every shard it wrote to {@code dataset}. */
    static DataPrepared prepared(PrepareCommand.Prepared prepared, Path dataset) throws IOException {
        List<InputFile> shards = new ArrayList<>(validationShards(dataset));
        shards.addAll(hashAll(InputRole.TRAIN_SHARD, Shards.list(dataset, "train")));
        return new DataPrepared(prepared.documents(), prepared.textBytes(), prepared.valTokens(),
                prepared.trainTokens(), shards);
    }

    /**
     * @param command       the command line that started the run
     * @param configListing the resolved configuration as config.conf holds it
     * @param valTokens     the validation tokens the run scores, or empty for all of them
     */
    static RunStarted started(String command, String configListing, String backend, int threads,
                              Optional<Long> valTokens, List<InputFile> inputs) {
        return new RunStarted(PgolfCli.VERSION, command, configListing, backend, threads, valTokens.orElse(0L),
                inputs);
    }

    /** Journals the run's start; it must be the journal's first entry. */
    static void journal(MessageJournal journal, RunStarted started) throws IOException {
        journal.append(SENDER, GUARDIAN, started);
    }
}
