package io.pgolf.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a configuration is resolved from, lowest precedence first after the defaults.
 *
 * @param profile a shipped profile
 * @param file    a HOCON file with a {@code pgolf { ... }} section
 * @param env     environment variables; only knobs' names are looked at
 * @param sets    {@code KEY=VALUE} overrides, KEY a path ({@code model.qk-gain-init}) or env name; later wins
 */
public record ConfigInputs(Optional<Profile> profile, Optional<Path> file, Map<String, String> env, List<String> sets) {

    public ConfigInputs {
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(file, "file");
        env = Map.copyOf(env);
        sets = List.copyOf(sets);
    }

    public static ConfigInputs of(Optional<Path> file, Map<String, String> env, List<String> sets) {
        return new ConfigInputs(Optional.empty(), file, env, sets);
    }
}
