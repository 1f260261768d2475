package io.pgolf.deploy;

import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.testing.SharedFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * The recorded journals the replay tests re-drive (src/test/resources/io/pgolf/deploy/replay, see its README), and
 * the program that records them again: small runs of the demo architecture at 2 layers on the first 1,024 shared sp1024
 * validation tokens and the first training shard.
 * <ul>
 *   <li>{@link #TRAIN}: pgolf train scheduled by steps (2 warm-up steps, 2 steps), 1 calibration batch, plain, sliding
 *       and score-first TTT evaluations (4 chunks);</li>
 *   <li>{@link #EVAL}: pgolf eval of that run's artifact, plain, sliding and TTT;</li>
 *   <li>{@link #WALL_CLOCK}: pgolf train scheduled by a 3-second budget, with pre-quant TTT, stopping after the
 *       artifact (--no-eval);</li>
 *   <li>{@link #DEMO}: pgolf demo for one step on its first 1,024 validation tokens: the embedded corpus tokenized
 *       first, the demo's 4 x 128 model.</li>
 * </ul>
 */
final class ReplayJournals {
    static final String RESOURCES = "/io/pgolf/deploy/replay/";
    static final String TRAIN = "train.journal";
    static final String EVAL = "eval.journal";
    static final String WALL_CLOCK = "wallclock-prequant.journal";
    static final String DEMO = "demo.journal";

    private static final List<String> MODEL = List.of("NUM_LAYERS=2", "LOOP_END=1", "WARMUP_STEPS=1",
            "TRAIN_BATCH_TOKENS=2048", "GPTQ_CALIBRATION_BATCHES=1", "TTT_ENABLED=1", "TTT_CHUNK_TOKENS=256",
            "TTT_EPOCHS=1", "TTT_BATCH_SEQS=2");

    private ReplayJournals() {
    }

    /** A recorded journal, copied out of the test resources into {@code dir}. */
    static Path copy(String name, Path dir) throws IOException {
        Path file = dir.resolve(name);
        try (var in = ReplayJournals.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("recorded journal " + RESOURCES + name + " is missing");
            }
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    /** The shared validation shard, decompressed into {@code dir}: all a replay of these journals reads. */
    static Path validationData(Path dir) throws IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        SharedFiles.unxz(SharedFiles.file("data/datasets/fineweb10B_sp1024/fineweb_val_000000.bin.xz"), data);
        return data;
    }

    /** pgolf replay of {@code journal} into {@code out}, reading the validation shards in {@code data}. */
    static CliResult replay(Path journal, Path data, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("replay", journal.toString(), "--data", data.toString(),
                "--tokenizer", SharedFiles.tokenizer(1024).toString(), "--out", out.toString()));
        args.addAll(List.of(more));
        CliResult result = CliResult.run(args.toArray(String[]::new));
        result.out().lines().dropWhile(line -> !line.startsWith("stage ")).forEach(System.out::println);
        return result;
    }

    /** The row of {@code stage} in a replay's table. */
    static String row(CliResult result, String stage) {
        return result.out().lines().filter(line -> line.startsWith(String.format(Locale.ROOT, "%-16s ", stage)))
                .findFirst().orElseThrow(() -> new AssertionError("no row for " + stage + " in\n" + result.out()));
    }

    static List<JournalEntry> entries(Path journal) throws IOException {
        return JournalReader.readAll(journal).entries();
    }

    /** A copy of {@code journal} at {@code file} with the entry at {@code index} edited; seqs stay as they were. */
    static Path edited(Path journal, Path file, int index, UnaryOperator<PipelineMessage> edit) throws IOException {
        List<JournalEntry> entries = entries(journal);
        try (MessageJournal copy = MessageJournal.create(file, MessageJournal.Options.DEFAULT)) {
            for (int i = 0; i < entries.size(); i++) {
                JournalEntry e = entries.get(i);
                copy.append(e.sender(), e.recipient(), i == index ? edit.apply(e.message()) : e.message());
            }
        }
        return file;
    }

    /** Records the journals into {@code args[0]}: {@link #TRAIN}, {@link #EVAL}, {@link #WALL_CLOCK}, {@link #DEMO}. */
    public static void main(String[] args) throws IOException {
        Path target = Path.of(args[0]);
        Path work = Files.createTempDirectory("pgolf-replay-journals");
        Path data = validationData(work);
        SharedFiles.unxz(SharedFiles.file("data/datasets/fineweb10B_sp1024/fineweb_train_000000.bin.xz"), data);
        Path tokenizer = SharedFiles.tokenizer(1024);

        Path run = work.resolve("train");
        cli(train(data, tokenizer, run, "ITERATIONS=2"));
        Files.copy(run.resolve(PipelineRun.JOURNAL), target.resolve(TRAIN), StandardCopyOption.REPLACE_EXISTING);

        List<String> eval = new ArrayList<>(List.of("eval", "--profile", "demo", "--artifact",
                run.resolve(RunStages.ARTIFACT).toString(), "--data", data.toString(), "--tokenizer",
                tokenizer.toString(), "--threads", "2", "--val-tokens", "1024"));
        MODEL.forEach(knob -> eval.addAll(List.of("--set", knob)));
        cli(eval);
        Files.copy(run.resolve(EvalCommand.JOURNAL), target.resolve(EVAL), StandardCopyOption.REPLACE_EXISTING);

        Path clocked = work.resolve("wallclock");
        List<String> wallClock = train(data, tokenizer, clocked, "ITERATIONS=20", "MAX_WALLCLOCK_SECONDS=3",
                "GPTQ_RESERVE_SECONDS=0", "PREQUANT_TTT_ENABLED=1", "PREQUANT_TTT_EPOCHS=1");
        wallClock.add("--no-eval");
        cli(wallClock);
        Files.copy(clocked.resolve(PipelineRun.JOURNAL), target.resolve(WALL_CLOCK),
                StandardCopyOption.REPLACE_EXISTING);

        Path demo = work.resolve("demo");
        cli(List.of("demo", "--out", demo.toString(), "--steps", "1", "--val-tokens", "1024", "--workers", "2"));
        Files.copy(demo.resolve(PipelineRun.JOURNAL), target.resolve(DEMO), StandardCopyOption.REPLACE_EXISTING);
        System.out.println("recorded " + TRAIN + ", " + EVAL + ", " + WALL_CLOCK + " and " + DEMO + " into " + target
                + " (work files in " + work + ")");
    }

    private static List<String> train(Path data, Path tokenizer, Path run, String... knobs) {
        List<String> args = new ArrayList<>(List.of("train", "--profile", "demo", "--data", data.toString(),
                "--tokenizer", tokenizer.toString(), "--out", run.toString(), "--threads", "2", "--val-tokens",
                "1024"));
        MODEL.forEach(knob -> args.addAll(List.of("--set", knob)));
        for (String knob : knobs) {
            args.addAll(List.of("--set", knob));
        }
        return args;
    }

    private static void cli(List<String> args) {
        int exit = PgolfCli.commandLine().execute(args.toArray(String[]::new));
        if (exit != 0) {
            throw new IllegalStateException("pgolf " + String.join(" ", args) + " exited with " + exit);
        }
    }
}
