package io.pgolf.config;

import java.util.List;
import java.util.stream.Collectors;

/** The configuration cannot be used; the message lists every problem found, one per line. */
public final class ConfigException extends RuntimeException {

    private final List<ConfigProblem> problems;

    public ConfigException(List<ConfigProblem> problems) {
        super(describe(problems));
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String describe(List<ConfigProblem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        String count = problems.size() == 1 ? "1 problem" : problems.size() + " problems";
        return problems.stream().map(p -> "  " + p)
                .collect(Collectors.joining("\n", "invalid pgolf configuration, " + count + ":\n", ""));
    }
}
