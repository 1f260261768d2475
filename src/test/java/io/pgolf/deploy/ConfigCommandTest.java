package io.pgolf.deploy;

import io.pgolf.config.PgolfConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigCommandTest {

    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(Map<String, String> env, String... args) {
        CommandLine command = new CommandLine(new ConfigCommand(env));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        command.setOut(new PrintWriter(out));
        command.setErr(new PrintWriter(err));
        int exitCode = command.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    private static void assertLine(String output, String key, String value, String annotation) {
        Pattern line = Pattern.compile("(?m)^ {4}" + Pattern.quote(key + " = " + value) + " +# "
                + Pattern.quote(annotation) + "$");
        assertTrue(line.matcher(output).find(), key + " = " + value + "  # " + annotation + " not in\n" + output);
    }

    @Test
    void printsEachValueWithItsEnvNameAndSource() throws IOException {
        Path conf = Files.writeString(dir.resolve("run.conf"), "pgolf {\n  train.seed = 42\n}\n");
        Run run = run(Map.of("QK_GAIN_INIT", "5.0", "TTT_ENABLED", "1"),
                "--profile", "record", "--config", conf.toString(), "--set", "TTT_EPOCHS=4");
        assertEquals(0, run.exitCode(), run.err());
        assertLine(run.out(), "vocab-size", "8192", "VOCAB_SIZE, from default");
        assertLine(run.out(), "ttt-lr", "0.005", "TTT_LR, from profile record:8");
        assertLine(run.out(), "seed", "42", "SEED, from file " + conf + ":2");
        assertLine(run.out(), "qk-gain-init", "5.0", "QK_GAIN_INIT, from env");
        assertLine(run.out(), "ttt-enabled", "true", "TTT_ENABLED, from env");
        assertLine(run.out(), "ttt-epochs", "4", "TTT_EPOCHS, from --set");
        assertLine(run.out(), "compressor", "\"brotli\"", "COMPRESSOR, from default");
        assertTrue(run.out().contains("#   head-dim = 64"), run.out());
    }

    @Test
    void listingLoadsBackToTheSameConfiguration() throws IOException {
        Map<String, String> env = Map.of("QK_GAIN_INIT", "5.0", "COMPRESSOR", "lzma", "RUN_ID", "r1",
                "ADAM_EPS", "1e-9", "WORLD_SIZE", "4", "DATA_DIR", "/mnt/pgolf data");
        Run run = run(env, "--set", "model.mlp-mult=3.5", "--set", "SLIDING_WINDOW_ENABLED=0");
        assertEquals(0, run.exitCode(), run.err());
        Path listing = Files.writeString(dir.resolve("listing.conf"), run.out());
        PgolfConfig original = PgolfConfig.load(Optional.empty(), env,
                List.of("model.mlp-mult=3.5", "SLIDING_WINDOW_ENABLED=0"));
        assertEquals(original, PgolfConfig.load(Optional.of(listing), Map.of(), List.of()));
    }

    @Test
    void invalidConfigurationExitsWithEveryProblemOnStderr() {
        Run run = run(Map.of("MODEL_DIM", "500", "WORLD_SIZE", "3"), "--set", "ROPE_DIMS=8");
        assertEquals(2, run.exitCode());
        assertEquals("", run.out());
        assertTrue(run.err().contains("pgolf.model.model-dim (MODEL_DIM): expected a multiple of num-heads"), run.err());
        assertTrue(run.err().contains("pgolf.distributed.world-size (WORLD_SIZE)"), run.err());
    }

    @Test
    void isASubcommandOfPgolf() {
        CommandLine pgolf = new CommandLine(new PgolfCli());
        assertTrue(pgolf.getSubcommands().get("config").getCommand() instanceof ConfigCommand);
    }
}
