package io.pgolf.config;

import java.util.List;

/**
 * A validated configuration with the provenance of each value.
 *
 * @param settings every knob, grouped by section in the order of {@link PgolfConfig}'s components
 * @param inputs   what it was resolved from
 */
public record ResolvedConfig(PgolfConfig config, List<Setting> settings, ConfigInputs inputs) {

    public ResolvedConfig {
        settings = List.copyOf(settings);
    }

    /** Whether the knob at {@code path} (e.g. {@code data.vocab-size}) was set by the user rather than defaulted. */
    public boolean isExplicit(String path) {
        Knob knob = Knob.of(path);
        return settings.stream().filter(s -> s.knob().equals(knob)).findFirst()
                .map(s -> s.source() != Source.DEFAULT)
                .orElseThrow(() -> new IllegalArgumentException("no knob " + knob.hoconPath()));
    }
}
