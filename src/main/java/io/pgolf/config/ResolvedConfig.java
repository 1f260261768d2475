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
}
