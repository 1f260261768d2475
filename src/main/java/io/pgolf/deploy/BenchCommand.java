package io.pgolf.deploy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/** {@code pgolf bench}: benchmarks that print figures (never pass/fail). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print figures.",
        subcommands = {BenchCommand.Prepare.class, BenchTrainCommand.class, BenchEvalCommand.class})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Tokenization rate of {@code prepare}: one worker (the baseline) against {@code --workers}, in one run. */
    @Command(name = "prepare", mixinStandardHelpOptions = true,
            description = "MB/s of text through prepare, with 1 worker and with all cores, after a warm-up pass.")
    static final class Prepare implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--docs", required = true, description = "JSONL corpus (.jsonl or .jsonl.xz)")
        Path docs;

        @Option(names = "--tokenizer", required = true, description = "SentencePiece .model file")
        Path tokenizer;

        @Option(names = "--val-docs", defaultValue = "1000", description = "validation documents (default ${DEFAULT-VALUE})")
        long valDocs;

        @Option(names = "--workers", description = "tokenizer workers of the second run (default: the number of cores)")
        Integer workers;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            int cores = workers != null ? workers : Runtime.getRuntime().availableProcessors();
            out.printf(Locale.ROOT, "bench prepare: %s with %s, %d cores%n", docs, tokenizer.getFileName(),
                    Runtime.getRuntime().availableProcessors());
            // The first pass only warms the JIT, so that the one-worker baseline is not charged for compilation.
            int[] passes = cores == 1 ? new int[]{1, 1} : new int[]{cores, 1, cores};
            for (int i = 0; i < passes.length; i++) {
                int w = passes[i];
                Path dir = tempDir();
                try {
                    PrepareCommand.Prepared p = PrepareCommand.prepare(docs, tokenizer, Optional.empty(), dir, valDocs, 100_000_000, w);
                    out.printf(Locale.ROOT, "%-9s workers=%d  %.2f MB text  %,d tokens  %.2f s  %.2f MB/s  %,.0f tokens/s%n",
                            i == 0 ? "warm-up" : "measured", w, p.textBytes() / 1e6, p.valTokens() + p.trainTokens(), p.seconds(),
                            p.textBytes() / 1e6 / p.seconds(), (p.valTokens() + p.trainTokens()) / p.seconds());
                    out.flush();
                } finally {
                    delete(dir);
                }
            }
        }

        private static Path tempDir() {
            try {
                return Files.createTempDirectory("pgolf-bench-prepare");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static void delete(Path dir) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
