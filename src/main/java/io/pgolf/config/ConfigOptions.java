package io.pgolf.config;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The configuration options every pgolf subcommand shares; add with {@code @Mixin ConfigOptions config;}. */
public final class ConfigOptions {

    @Option(names = "--profile", paramLabel = "NAME",
            description = "Shipped overrides above the defaults: record (QK_GAIN_INIT=5.0, score-first TTT on).")
    private String profile;

    @Option(names = "--config", paramLabel = "FILE",
            description = "HOCON file with a pgolf { ... } section; above the defaults and the profile.")
    private Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override one knob, above the file and the environment; KEY is a path "
                    + "(model.qk-gain-init) or an env name (QK_GAIN_INIT). Repeatable.")
    private List<String> overrides = new ArrayList<>();

    /** The configuration under this process's environment. */
    public PgolfConfig load() {
        return resolve(System.getenv()).config();
    }

    /** The configuration under the given environment, with each value's origin. */
    public ResolvedConfig resolve(Map<String, String> env) {
        return PgolfConfig.resolve(new ConfigInputs(Optional.ofNullable(profile).map(Profile::named),
                Optional.ofNullable(configFile), env, overrides));
    }
}
