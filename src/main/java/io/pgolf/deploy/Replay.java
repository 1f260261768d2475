package io.pgolf.deploy;

import io.pgolf.actors.PreparePipeline;
import io.pgolf.actors.RunPipeline;
import io.pgolf.actors.RunPipeline.Stage;
import io.pgolf.actors.StageFailedException;
import io.pgolf.config.BackendKind;
import io.pgolf.config.ConfigInputs;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.shard.Shards;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.JournalReadResult;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.RunStarted;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Re-drives a recorded run into fresh actors and compares what they say with what the recorded ones said.
 *
 * <p>The replay computes on the CPU backend, whatever backend the run used. The journal's {@link RunStarted} gives
 * the configuration (its HOCON, loaded with no environment), the threads and
 * the validation tokens, and names every input with its sha256; the files the replay reads (validation shards,
 * tokenizer, and the documents of a run that prepared its data or the artifact of an evaluation) must have those
 * bytes. Then the stages the recording finished run again with the same actors a run has, into the replay folder,
 * except that the Trainer and the Quantizer get the recorded batches instead of a DataLoader's, the Trainer the
 * recorded clock readings, and the TTT evaluator the recorded requests and evaluation id ({@link RecordedSources}).
 * Everything the fresh actors receive and say is journaled into OUT/replay.journal, which is compared with the
 * recording ({@link JournalComparison}).
 */
final class Replay {
    static final String JOURNAL = "replay.journal";
    static final String LOG = "replay.log";

    /**
     * Where the replay reads and writes; an empty option means the path the recording names.
     *
     * @param threads CPU backend threads; empty for the recorded run's
     */
    record Options(Optional<Path> data, Optional<Path> tokenizer, Optional<Path> docs, Optional<Path> artifact,
                   Path out, Optional<Integer> threads, String command) {
    }

    /** The comparison, stage by stage, and the failure that stopped the replay early, if one did. */
    record Outcome(List<JournalComparison.Stage> stages, Optional<String> failure, Path journal) {
        boolean allEqual() {
            return failure.isEmpty() && stages.stream().allMatch(JournalComparison.Stage::allEqual);
        }
    }

    private Replay() {
    }

    static Outcome run(Path journalFile, Options o, PrintWriter console) throws Exception {
        JournalReadResult read = JournalReader.readAll(journalFile);
        RecordedRun recorded = RecordedRun.of(read);
        RunStarted started = recorded.started();
        if (recorded.stages().isEmpty()) {
            throw new IllegalArgumentException(journalFile + " records no finished stage: nothing to replay");
        }
        boolean evaluation = !recorded.stages().contains(RunStages.TRAIN);
        if (evaluation && !recorded.stages().getFirst().equals(EvaluationStages.LOAD)) {
            throw new IllegalArgumentException(journalFile + " records the stages " + recorded.stages()
                    + ", neither a pipeline run (train, ...) nor an artifact's evaluation (load-artifact, ...)");
        }
        Path replayJournal = o.out().resolve(JOURNAL);
        if (Files.exists(replayJournal)) {
            throw new IllegalArgumentException("replay folder " + o.out() + " already holds a replay (" + JOURNAL
                    + "); give another --out");
        }
        boolean prepared = !started.inputs(InputRole.DOCUMENTS).isEmpty();
        refuse(o.docs().isPresent() && !prepared, "--docs: the recorded run read shards, not documents");
        refuse(o.data().isPresent() && prepared, "--data: the recorded run prepared its shards from documents;"
                + " the replay prepares them again from --docs");
        refuse(o.artifact().isPresent() && !evaluation, "--artifact: the recorded run wrote its artifact; the replay"
                + " writes its own");
        List<InputFile> inputs = new ArrayList<>();
        Optional<Path> docs = optionalInput(started, InputRole.DOCUMENTS, o.docs(), inputs);
        Path tokenizer = input(started, InputRole.TOKENIZER, o.tokenizer(), inputs);
        Path dataset = docs.isPresent() ? o.out().resolve("data") : validationShards(started, o.data(), inputs);
        Optional<Path> artifact = evaluation ? Optional.of(input(started, InputRole.ARTIFACT, o.artifact(), inputs))
                : Optional.empty();
        inputs.add(RunInputs.hash(InputRole.JOURNAL, journalFile));

        Files.createDirectories(o.out());
        Path configFile = o.out().resolve(PipelineRun.CONFIG);
        AtomicFiles.writeString(configFile, started.config());
        // The recorded configuration alone: every knob is in it, and this machine's environment must not change it.
        ResolvedConfig resolved = PgolfConfig.resolve(ConfigInputs.of(Optional.of(configFile), Map.of(), List.of()));
        int threads = o.threads().orElse(started.threads());
        Optional<Long> valTokens = started.valTokens() == 0 ? Optional.empty() : Optional.of(started.valTokens());

        Optional<String> failure = Optional.empty();
        try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(o.out().resolve(LOG), StandardCharsets.UTF_8));
             MessageJournal journal = MessageJournal.create(replayJournal, MessageJournal.Options.DEFAULT);
             Backend backend = new CpuBackend(threads)) {
            Consumer<String> line = text -> {
                console.println(text);
                console.flush();
                log.println(text);
                log.flush();
            };
            line.accept(String.format(Locale.ROOT, "replay %s: %,d messages recorded by pgolf %s (%s, %s), stages %s;"
                            + " inputs match the recorded sha256", journalFile, read.entries().size(),
                    started.pgolfVersion(), started.command(), started.backend(), recorded.stages()));
            if (resolved.config().runtime().pgolfBackend() != BackendKind.CPU) {
                line.accept("replay: the run computed on " + started.backend() + "; the replay computes on the CPU,"
                        + " whose floating-point arithmetic is not the GPU's: its results will differ from the first"
                        + " one computed");
            }
            read.tornTail().ifPresent(torn -> line.accept("replay: the journal ends with a torn record at byte "
                    + torn.offset() + ": the run stopped while writing it; its finished stages are replayed"));
            RunInputs.journal(journal, RunInputs.started(o.command(), started.config(), backend.name(), threads,
                    valTokens, inputs));
            RecordedSources sources = new RecordedSources(recorded, line);
            try (StagedRun stages = evaluation
                    ? EvaluationStages.of(resolved, artifact.orElseThrow(), backend, dataset, valTokens, tokenizer,
                    () -> 0, sources::tttStage, journal, line)
                    : RunStages.of(new PipelineRun.Request(resolved, docs, dataset, tokenizer, o.out(), threads,
                    valTokens, lastStage(recorded.stages()), o.command()), started.config(), backend, journal,
                    sources, line)) {
                RunPipeline.run(recordedStages(stages.all(), recorded), journal, docs.isPresent()
                        ? PreparePipeline.systemSettings(threads) : Map.of(), line);
            } catch (StageFailedException e) {
                failure = Optional.of(e.getMessage());
                line.accept("replay: " + e.getMessage());
            }
        }
        RecordedRun replayed = RecordedRun.of(JournalReader.readAll(replayJournal));
        return new Outcome(JournalComparison.compare(recorded, replayed, recorded.stages()), failure, replayJournal);
    }

    private static void refuse(boolean given, String option) {
        if (given) {
            throw new IllegalArgumentException("the replay of this journal takes no " + option);
        }
    }

    /** Where a pipeline run stopped, from the stages it finished. */
    private static PipelineRun.LastStage lastStage(List<String> stages) {
        return stages.contains(EvaluationStages.LOAD) ? PipelineRun.LastStage.EVALUATE
                : stages.contains(RunStages.QUANTIZE) ? PipelineRun.LastStage.QUANTIZE : PipelineRun.LastStage.TRAIN;
    }

    /** The stages the configuration makes, cut to those the recording finished, which must be their beginning. */
    private static List<Stage<?>> recordedStages(List<Stage<?>> all, RecordedRun recorded) {
        List<String> names = all.stream().map(Stage::name).toList();
        if (recorded.stages().size() > names.size()
                || !names.subList(0, recorded.stages().size()).equals(recorded.stages())) {
            throw new IllegalArgumentException(recorded.file() + " records the stages " + recorded.stages()
                    + ", but its configuration makes " + names);
        }
        return all.subList(0, recorded.stages().size());
    }

    /** The recorded input of {@code role}, at {@code given} or where the recording found it, checked. */
    private static Path input(RunStarted started, InputRole role, Optional<Path> given, List<InputFile> checked)
            throws IOException {
        return optionalInput(started, role, given, checked).orElseThrow(() -> new IllegalArgumentException(
                "the journal's RunStarted names no " + RunInputs.describe(role) + " file"));
    }

    private static Optional<Path> optionalInput(RunStarted started, InputRole role, Optional<Path> given,
                                                List<InputFile> checked) throws IOException {
        List<InputFile> recorded = started.inputs(role);
        if (recorded.isEmpty()) {
            return Optional.empty();
        }
        Path file = given.orElse(Path.of(recorded.getFirst().path()));
        checked.add(check(recorded.getFirst(), file));
        return Optional.of(file);
    }

    /**
     * The folder of the recorded validation shards ({@code given}, or the recorded shards' folder), which must hold
     * them with their recorded bytes and no other validation shard. The training shards are not read: their batches
     * are in the journal.
     */
    private static Path validationShards(RunStarted started, Optional<Path> given, List<InputFile> checked)
            throws IOException {
        List<InputFile> recorded = started.inputs(InputRole.VAL_SHARD);
        if (recorded.isEmpty()) {
            throw new IllegalArgumentException("the journal's RunStarted names no val shard file");
        }
        Path dataset = given.orElseGet(() -> {
            Path parent = Path.of(recorded.getFirst().path()).getParent();
            return parent != null ? parent : Path.of(".");
        });
        List<String> names = recorded.stream().map(InputFile::name).toList();
        if (Files.isDirectory(dataset)) {
            for (Path present : Shards.list(dataset, "val")) {
                if (!names.contains(present.getFileName().toString())) {
                    throw new IllegalArgumentException("val shard " + present + " is not one the recorded run read "
                            + names + ": the validation tokens would differ");
                }
            }
        }
        for (InputFile shard : recorded) {
            checked.add(check(shard, dataset.resolve(shard.name())));
        }
        return dataset;
    }

    /** {@code file}, hashed, if it holds the recorded bytes; an error naming it otherwise. */
    private static InputFile check(InputFile recorded, Path file) throws IOException {
        String role = RunInputs.describe(recorded.role());
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(role + " " + file + " is missing (the recorded run read "
                    + recorded.path() + ", sha256 " + recorded.sha256() + ")");
        }
        InputFile found = RunInputs.hash(recorded.role(), file);
        if (!found.sha256().equals(recorded.sha256())) {
            throw new IllegalArgumentException(role + " " + file + " has sha256 " + found.sha256() + ", but the"
                    + " recorded run read " + recorded.path() + " with sha256 " + recorded.sha256());
        }
        return found;
    }
}
