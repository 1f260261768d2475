package io.pgolf.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A run's first word, the first entry of its journal, which makes the journal self-describing: the pgolf that ran it,
 * the command line, the resolved configuration ({@code config}, the HOCON listing that config.conf holds and that
 * loads back to the same values), the backend and its threads, how many validation tokens it scored (0: all of
 * them) and every file it read, with its SHA-256.
 */
public record RunStarted(String pgolfVersion, String command, String config, String backend, int threads,
                         long valTokens, List<InputFile> inputs) implements PipelineMessage {
    public RunStarted {
        Objects.requireNonNull(pgolfVersion, "pgolfVersion");
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(backend, "backend");
        inputs = List.copyOf(inputs);
        if (threads < 1 || valTokens < 0) {
            throw new IllegalArgumentException("a run has at least one thread and no negative token count, got "
                    + threads + " threads, " + valTokens + " validation tokens");
        }
    }

    /** The inputs of {@code role}, in the order the run listed them. */
    public List<InputFile> inputs(InputRole role) {
        return inputs.stream().filter(input -> input.role() == role).toList();
    }
}
