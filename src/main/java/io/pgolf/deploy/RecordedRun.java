package io.pgolf.deploy;

import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReadResult;
import io.pgolf.protocol.RunStarted;
import io.pgolf.protocol.StageFinished;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's journal read for a replay: its {@link RunStarted}, the stages it finished in order, and its entries by
 * stage. An entry belongs to the stage whose actor received it: the guardian names each stage's supervisor after the
 * stage, so a recipient's path reads {@code /user/<stage>/...}; a {@link StageFinished} belongs to the stage it
 * names; the RunStarted belongs to none.
 */
record RecordedRun(Path file, RunStarted started, List<String> stages, Map<String, List<JournalEntry>> byStage) {
    static RecordedRun of(JournalReadResult read) {
        List<JournalEntry> entries = read.entries();
        if (entries.isEmpty() || !(entries.getFirst().message() instanceof RunStarted started)) {
            throw new IllegalArgumentException(read.file() + " does not begin with RunStarted, so it does not say what"
                    + " its run read and how it was configured: only journals of pgolf train, pgolf demo, pgolf eval"
                    + " and pgolf replay are replayed");
        }
        List<String> stages = entries.stream().filter(e -> e.message() instanceof StageFinished)
                .map(e -> ((StageFinished) e.message()).stage()).toList();
        Map<String, List<JournalEntry>> byStage = new LinkedHashMap<>();
        for (JournalEntry entry : entries) {
            String stage = stageOf(entry);
            if (stage != null) {
                byStage.computeIfAbsent(stage, s -> new ArrayList<>()).add(entry);
            }
        }
        return new RecordedRun(read.file(), started, List.copyOf(stages), byStage);
    }

    /** The stage an entry belongs to, or null for the run's own RunStarted. */
    static String stageOf(JournalEntry entry) {
        if (entry.message() instanceof StageFinished finished) {
            return finished.stage();
        }
        String[] path = entry.recipient().split("/");
        return path.length >= 3 && path[1].equals("user") ? path[2] : null;
    }

    /** The entries of {@code stage}, in journal order; none for a stage that journaled nothing. */
    List<JournalEntry> entries(String stage) {
        return byStage.getOrDefault(stage, List.of());
    }

    /** The messages of {@code type} in {@code stage}, in journal order. */
    <T> List<T> messages(String stage, Class<T> type) {
        return entries(stage).stream().map(JournalEntry::message).filter(type::isInstance).map(type::cast).toList();
    }
}
