package io.pgolf.deploy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code pgolf replay JOURNAL}: re-drives a recorded run's messages into fresh actors on the CPU ({@link Replay}) and
 * prints, stage by stage, how many messages the fresh actors journaled, how many equal the recorded ones, and the
 * first difference. Exit 0 only if every message equals its recording.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Re-drive a recorded run (pgolf train, demo, eval or replay journal) into fresh actors on the"
                + " CPU and compare every message with the recorded one. Exit 0 only if all are equal.")
public final class ReplayCommand implements Callable<Integer> {
    private static final String ROW = "%-16s %9s %9s  %s%n";

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "JOURNAL", description = "the journal of a run: RUN/run.journal, eval.journal, replay.journal")
    Path journal;

    @Option(names = "--data", paramLabel = "DIR",
            description = "folder of the recorded validation shards (default: where the run read them)")
    Path data;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "the recorded tokenizer (default: its recorded path)")
    Path tokenizer;

    @Option(names = "--docs", paramLabel = "FILE",
            description = "the recorded corpus of a run that prepared its shards (default: its recorded path)")
    Path docs;

    @Option(names = "--artifact", paramLabel = "FILE",
            description = "the recorded artifact of an evaluation (default: its recorded path)")
    Path artifact;

    @Option(names = "--out", paramLabel = "DIR", description = "replay folder (default: runs/replay-<date-time>)")
    Path out;

    @Option(names = "--threads", description = "CPU backend threads (default: the recorded run's)")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        Path folder = out != null ? out
                : Path.of("runs", "replay-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Replay.Outcome outcome = Replay.run(journal, new Replay.Options(Optional.ofNullable(data),
                Optional.ofNullable(tokenizer), Optional.ofNullable(docs), Optional.ofNullable(artifact), folder,
                Optional.ofNullable(threads), Invocation.commandLine(spec)), console);
        console.println();
        console.printf(Locale.ROOT, ROW, "stage", "messages", "equal", "first difference");
        int compared = 0;
        int differing = 0;
        for (JournalComparison.Stage stage : outcome.stages()) {
            console.printf(Locale.ROOT, ROW, stage.name(), String.format(Locale.ROOT, "%,d", stage.compared()),
                    String.format(Locale.ROOT, "%,d", stage.equal()),
                    stage.firstDifference().map(JournalComparison.Difference::describe).orElse(""));
            compared += stage.compared();
            differing += stage.allEqual() ? 0 : 1;
        }
        outcome.failure().ifPresent(failure -> console.println("replay stopped: " + failure));
        console.printf(Locale.ROOT, "not compared: RunStarted (its inputs are checked by sha256 instead) and, by"
                + " message, the fields that measure wall-clock time, name where a file went or depend on the build;"
                + " journal %s%n", outcome.journal());
        console.println(outcome.allEqual()
                ? String.format(Locale.ROOT, "verdict: EQUAL (%,d messages in %d stage%s, bit for bit)", compared,
                outcome.stages().size(), outcome.stages().size() == 1 ? "" : "s")
                : String.format(Locale.ROOT, "verdict: DIFFERENT (%d of %d stages%s)", differing,
                outcome.stages().size(), outcome.failure().isPresent() ? "; the replay stopped early" : ""));
        console.flush();
        return outcome.allEqual() ? 0 : 1;
    }
}
