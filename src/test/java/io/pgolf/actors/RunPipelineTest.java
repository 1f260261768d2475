package io.pgolf.actors;

import io.pgolf.actors.RunPipeline.Stage;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.StageFinished;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileNotFoundException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunPipelineTest {
    @TempDir
    Path dir;

    private List<StageFinished> run(List<Stage<?>> stages, Path journalFile, List<String> log) throws Exception {
        try (MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT)) {
            return RunPipeline.run(stages, journal, Map.of(), log::add);
        }
    }

    @Test
    void stagesRunInOrderEachSeeingTheOutcomesBeforeIt() throws Exception {
        List<String> started = new ArrayList<>();
        Stage<Integer> first = Stage.task("first", system -> {
            started.add("first");
            return 20;
        });
        Stage<Integer> second = Stage.of("second", outcome -> Behaviors.setup(context -> {
            started.add("second");
            outcome.complete(first.result() + 22);
            return Behaviors.stopped();
        }));
        Path journalFile = dir.resolve("run.journal");
        List<String> log = new ArrayList<>();
        List<StageFinished> finished = run(List.of(first, second), journalFile, log);

        assertEquals(List.of("first", "second"), started);
        assertEquals(42, second.result());
        assertEquals(List.of("first", "second"), finished.stream().map(StageFinished::stage).toList());
        assertTrue(finished.stream().allMatch(f -> f.seconds() >= 0), finished.toString());
        List<JournalEntry> entries = JournalReader.readAll(journalFile).entries();
        assertEquals(finished, entries.stream().map(JournalEntry::message).toList());
        assertEquals("second", entries.get(1).sender());
        assertEquals("/user", entries.get(1).recipient());
        assertTrue(log.getLast().startsWith("stage second finished in "), log.toString());
    }

    @Test
    void aFailingStageFailsTheRunByNameAndNoLaterStageStarts() throws Exception {
        Stage<String> ok = Stage.task("prepare", system -> "done");
        Stage<String> broken = Stage.task("quantize", system -> {
            throw new IllegalStateException("out of budget");
        });
        Stage<String> never = Stage.task("eval", system -> {
            throw new AssertionError("a stage after a failed one started");
        });
        Path journalFile = dir.resolve("failed.journal");
        StageFailedException e = assertThrows(StageFailedException.class,
                () -> run(List.of(ok, broken, never), journalFile, new ArrayList<>()));
        assertEquals("quantize", e.stage());
        assertTrue(e.getMessage().startsWith("stage quantize failed: ") && e.getMessage().contains("out of budget"),
                e.getMessage());
        assertFalse(never.outcome().isDone());
        assertEquals(List.of(new StageFinished("prepare", ((StageFinished) JournalReader.readAll(journalFile).entries()
                .getFirst().message()).seconds())), JournalReader.readAll(journalFile).entries().stream()
                .map(JournalEntry::message).toList());
    }

    @Test
    void aStageWithoutAnOutcomeWithAFailedOneOrWithoutASupervisorFailsTheRun() {
        Stage<String> silent = Stage.of("silent", outcome -> Behaviors.stopped());
        StageFailedException e = assertThrows(StageFailedException.class,
                () -> run(List.of(silent), dir.resolve("silent.journal"), new ArrayList<>()));
        assertEquals("stage silent failed: stopped without an outcome", e.getMessage());

        Stage<String> refused = Stage.of("compress", outcome -> Behaviors.setup(context -> {
            outcome.completeExceptionally(new IllegalArgumentException("artifact refused"));
            return Behaviors.stopped();
        }));
        e = assertThrows(StageFailedException.class,
                () -> run(List.of(refused), dir.resolve("refused.journal"), new ArrayList<>()));
        assertEquals("stage compress failed: artifact refused", e.getMessage());

        Stage<String> unmade = Stage.of("load", outcome -> {
            throw new FileNotFoundException("model.artifact");
        });
        e = assertThrows(StageFailedException.class,
                () -> run(List.of(unmade), dir.resolve("unmade.journal"), new ArrayList<>()));
        assertEquals("stage load failed: model.artifact", e.getMessage());
    }
}
