package io.pgolf.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.data.corpus.ShardPublisher;
import io.pgolf.data.shard.Shard;
import io.pgolf.data.shard.Shards;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code pgolf verify DIR}: checks a dataset folder before a run spends time on it: every shard's header and size,
 * and, where the folder has the {@code manifest.json} that {@code prepare} writes, each shard's sha256 and the token
 * totals. Stops at the first bad file with an error naming it.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check a dataset folder's shards (format, sizes) and its manifest.json (sha256, token totals).")
public final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "folder with fineweb_{val,train}_NNNNNN.bin")
    Path dir;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Long> tokens = new java.util.LinkedHashMap<>();
        List<Path> all = new ArrayList<>();
        for (String split : List.of("val", "train")) {
            long sum = 0;
            for (Path file : Shards.list(dir, split)) {
                try (Shard shard = Shard.open(file)) {
                    sum += shard.count();
                }
                all.add(file);
            }
            tokens.put(split, sum);
        }
        Path manifestFile = dir.resolve("manifest.json");
        String checked = "no manifest.json";
        if (Files.exists(manifestFile)) {
            JsonNode manifest = new ObjectMapper().readTree(manifestFile.toFile());
            for (Path file : all) {
                String name = file.getFileName().toString();
                JsonNode expected = manifest.path("files").path(name);
                if (expected.isMissingNode()) {
                    throw new IllegalArgumentException(file + " is not listed in " + manifestFile);
                }
                String actual = ShardPublisher.sha256(file);
                if (!actual.equals(expected.asText())) {
                    throw new IllegalArgumentException(file + ": sha256 " + actual + " differs from " + manifestFile
                            + " (" + expected.asText() + ")");
                }
            }
            for (String split : tokens.keySet()) {
                long expected = manifest.path("tokens").path(split).asLong(-1);
                if (expected != tokens.get(split)) {
                    throw new IllegalArgumentException(dir + ": " + split + " shards hold " + tokens.get(split)
                            + " tokens, " + manifestFile + " says " + expected);
                }
            }
            checked = "sha256 and token totals match manifest.json";
        }
        out.printf(Locale.ROOT, "verify %s: %d shards, %,d val + %,d train tokens; %s%n",
                dir, all.size(), tokens.get("val"), tokens.get("train"), checked);
        out.flush();
        return 0;
    }
}
