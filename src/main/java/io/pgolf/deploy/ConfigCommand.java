package io.pgolf.deploy;

import io.pgolf.config.ConfigException;
import io.pgolf.config.ConfigOptions;
import io.pgolf.config.HoconListing;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code pgolf config}: prints the resolved, validated configuration, or every problem with it. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Print the resolved, validated configuration as HOCON, each key with its environment "
                + "variable and where its value came from (default, profile, file, env, --set).")
public final class ConfigCommand implements Callable<Integer> {

    @Mixin
    private ConfigOptions options;

    @Spec
    private CommandSpec spec;

    private final Map<String, String> env;

    public ConfigCommand() {
        this(System.getenv());
    }

    /** With a given environment instead of the process's. */
    ConfigCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
        try {
            spec.commandLine().getOut().print(HoconListing.of(options.resolve(env)));
            spec.commandLine().getOut().flush();
            return 0;
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return spec.exitCodeOnInvalidInput();
        }
    }
}
