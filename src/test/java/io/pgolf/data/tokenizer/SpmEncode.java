package io.pgolf.data.tokenizer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The native {@code spm_encode} tool (Debian package sentencepiece, 0.1.97) as a second oracle. */
final class SpmEncode {
    private SpmEncode() {
    }

    /** Skips the calling test, saying why, when spm_encode is not on the PATH. */
    static void assumeInstalled() {
        String path = System.getenv().getOrDefault("PATH", "");
        boolean found = Arrays.stream(path.split(File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, "spm_encode")));
        assumeTrue(found, "spm_encode is not installed (apt-get install sentencepiece); skipping the native oracle");
    }

    /** The ids spm_encode gives each line (lines must not contain '\n'). */
    static List<int[]> encode(Path model, List<String> lines, Path workDir) throws IOException, InterruptedException {
        Path input = Files.createTempFile(workDir, "spm-in", ".txt");
        Path output = Files.createTempFile(workDir, "spm-out", ".txt");
        Files.writeString(input, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        Process process = new ProcessBuilder("spm_encode", "--model=" + model, "--output_format=id",
                "--input=" + input, "--output=" + output).redirectErrorStream(true).start();
        String log = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("spm_encode failed on " + model + ":\n" + log);
        }
        List<String> results = Files.readAllLines(output, StandardCharsets.UTF_8);
        if (results.size() != lines.size()) {
            throw new IOException("spm_encode gave " + results.size() + " lines for " + lines.size());
        }
        return results.stream()
                .map(line -> line.isBlank() ? new int[0]
                        : Arrays.stream(line.trim().split(" ")).mapToInt(Integer::parseInt).toArray())
                .toList();
    }
}
