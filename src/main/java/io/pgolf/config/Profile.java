package io.pgolf.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** A shipped set of overrides, layered between the defaults and a --config file. */
public enum Profile {
    /** The record run of seeds/000: QK_GAIN_INIT=5.0 and score-first TTT. */
    RECORD,
    /** The embedded demo: a small model of the record's architecture that trains in about a minute on a CPU. */
    DEMO;

    /** The name users type, {@code record}. */
    public String profileName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Class-path resource, relative to this package. */
    String resource() {
        return "profiles/" + profileName() + ".conf";
    }

    public static Profile named(String name) {
        return Arrays.stream(values()).filter(p -> p.profileName().equals(name)).findFirst()
                .orElseThrow(() -> new ConfigException(List.of(new ConfigProblem("--profile " + name,
                        "unknown profile; shipped: " + Arrays.stream(values()).map(Profile::profileName)
                                .collect(Collectors.joining(", "))))));
    }
}
