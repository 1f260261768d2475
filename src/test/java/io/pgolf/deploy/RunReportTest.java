package io.pgolf.deploy;

import io.pgolf.actors.QuantizePipeline;
import io.pgolf.config.ConfigInputs;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.protocol.ArtifactWritten;
import io.pgolf.protocol.QuantizationDone;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.TrainingFinished;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How a run is labelled record or non-record from what it produced. */
class RunReportTest {
    private static final ResolvedConfig DEFAULTS = PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(),
            List.of()));

    @Test
    void anArtifactWithinTheChallengesSizeIsARecordRun() {
        assertEquals(RunKind.RECORD, report(15_990_000L).runKind());
    }

    @Test
    void anArtifactOverTheChallengesSizeIsNonRecordEvenWhenARaisedBudgetLetItBeWritten() {
        assertEquals(RunKind.NON_RECORD, report(16_000_001L).runKind());
    }

    private static RunReport report(long totalBytes) {
        long codeBytes = 200_000L;
        ArtifactWritten written = new ArtifactWritten("final_model.artifact", "brotli", totalBytes - codeBytes,
                codeBytes, 16_100_000L, 40_000_000L, 0.1, 90, 0.01);
        QuantizePipeline.Outcome quantized = new QuantizePipeline.Outcome(
                new QuantizationDone(67, 46, 35_943_512L, 64, 5.0, 3.0), written);
        RunReport.Results results = new RunReport.Results(Optional.empty(),
                new TrainingFinished(0, 150, 195.0, 117_964_800L, "iterations", "final_model.safetensors"), List.of(),
                Optional.empty(), Optional.of(quantized), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), List.of());
        return RunReport.of("run", results, DEFAULTS, "test", true);
    }
}
