package io.pgolf.actors;

import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.UnigramBaseline;
import io.pgolf.data.shard.Shards;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.eval.GptScorer;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.protocol.TrainerEvent;
import io.pgolf.protocol.TrainerProgress;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.ValidationReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingPipelineTest {
    @TempDir
    Path dir;

    @Test
    void warmupIsUndoneAndStepsFollowTheReferenceSchedule() throws Exception {
        Map<String, String> knobs = TinyTraining.baseKnobs();
        knobs.put("ITERATIONS", "4");
        knobs.put("VAL_LOSS_EVERY", "2");
        knobs.put("WARMUP_STEPS", "2");
        TinyTraining.Run warmed = TinyTraining.train(knobs, 8, dir.resolve("warmed"));
        knobs.put("WARMUP_STEPS", "0");
        TinyTraining.Run cold = TinyTraining.train(knobs, 8, dir.resolve("cold"));

        List<TrainerProgress> warmup = warmed.eventsOf(TrainerProgress.class).stream().filter(TrainerProgress::warmup).toList();
        assertEquals(List.of(false, false, true, true), warmup.stream().map(TrainerProgress::looping).toList(),
                "2 warm-up steps, then 2 more with the depth loop on");
        List<TrainerProgress> steps = warmed.eventsOf(TrainerProgress.class).stream().filter(p -> !p.warmup()).toList();
        assertEquals(List.of(1L, 2L, 3L, 4L), steps.stream().map(TrainerProgress::step).toList());
        // Step index s has fraction s / 4: the loop switches on at 0.5, the warmdown starts at 1 - 0.667.
        assertEquals(List.of(false, false, true, true), steps.stream().map(TrainerProgress::looping).toList());
        double[] lr = {1.0, 1.0, 0.5 / 0.667, 0.25 / 0.667};
        for (int i = 0; i < 4; i++) {
            assertEquals(lr[i], steps.get(i).lrMultiplier(), 1e-12, "lr multiplier of step " + (i + 1));
        }
        // Restoring weights, optimizer state and loader after the warm-up makes the run identical to a cold one.
        List<Double> coldLosses = cold.eventsOf(TrainerProgress.class).stream().map(TrainerProgress::trainLoss).toList();
        assertEquals(coldLosses, steps.stream().map(TrainerProgress::trainLoss).toList());

        List<ValidationReport> validations = warmed.eventsOf(ValidationReport.class);
        assertEquals(List.of(0L, 2L, 4L, 4L), validations.stream().map(ValidationReport::step).toList());
        assertEquals(List.of(false, false, false, true), validations.stream().map(ValidationReport::emaWeights).toList());
        TrainerEvent last = warmed.events().getLast();
        assertEquals(new TrainingFinished(0, 4, ((TrainingFinished) last).trainSeconds(), 4 * 4096L, "iterations",
                warmed.weights().toString()), last);

        // The saved weights are the EMA weights that the last validation scored (with the loop on, as it was then).
        try (CpuBackend backend = new CpuBackend(2); Gpt model = TinyTraining.load(warmed, backend)) {
            model.setLooping(true);
            BitsPerByte.Totals again = new PlainEvaluation(TinyTraining.validationPrefix(8), 128, 16,
                    TinyTraining.byteTables()).run(new GptScorer(model));
            assertEquals(validations.getLast().valLoss(), again.meanLoss(), 1e-12);
        }
    }

    @Test
    void aMinuteOfTrainingBeatsTheUnigramModelOfTheTrainingTokens() throws Exception {
        Map<String, String> knobs = TinyTraining.baseKnobs();
        knobs.put("ITERATIONS", "50");
        knobs.put("WARMUP_STEPS", "0");
        // The record's 0.997 averages over ~300 steps; a 50-step run needs a shorter memory.
        knobs.put("EMA_DECAY", "0.9");
        int windows = 64;
        TinyTraining.Run run = TinyTraining.train(knobs, windows, dir);

        BitsPerByte.Totals unigram = UnigramBaseline.fit(Shards.list(TinyTraining.dataset(), "train"), TinyTraining.VOCAB)
                .score(TinyTraining.validationPrefix(windows), TinyTraining.byteTables());
        List<ValidationReport> validations = run.eventsOf(ValidationReport.class);
        ValidationReport live = validations.get(validations.size() - 2);
        ValidationReport ema = validations.getLast();
        TrainingFinished finished = run.eventsOf(TrainingFinished.class).getFirst();
        System.out.printf("tiny model, %d steps (%,d tokens, %.1f s): val_bpb %.4f (loss %.4f), with the EMA %.4f "
                        + "(loss %.4f); unigram of the training tokens: val_bpb %.4f (loss %.4f); on the first %,d "
                        + "validation tokens%n", finished.steps(), finished.tokensSeen(), finished.trainSeconds(),
                live.valBpb(), live.valLoss(), ema.valBpb(), ema.valLoss(), unigram.bitsPerByte(), unigram.meanLoss(),
                live.tokens());
        assertEquals(unigram.tokens(), live.tokens(), "both score the same tokens");
        for (ValidationReport trained : List.of(live, ema)) {
            assertTrue(trained.valBpb() < unigram.bitsPerByte() - 0.25,
                    trained + " vs unigram " + unigram.bitsPerByte());
        }
    }
}
