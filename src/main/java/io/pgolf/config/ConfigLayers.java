package io.pgolf.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The configuration's sources as separate layers, highest precedence first, so that each key's value and its
 * origin can be told apart. Unreadable files, unknown keys and malformed --set arguments become
 * {@link #problems()}; what could be read still forms the layers, so that value errors are found in the same pass.
 */
final class ConfigLayers {

    /** One source; {@code values} is keyed by path under {@code pgolf}. */
    record Layer(Source source, String name, Config values) {

        boolean sets(Knob knob) {
            return values.hasPathOrNull(knob.path());
        }

        /** The knob's value in this layer, an explicit HOCON null included (Config.getValue rejects those). */
        ConfigValue valueOf(Knob knob) {
            ConfigValue value = values.root();
            for (String segment : knob.path().split("\\.")) {
                value = ((ConfigObject) value).get(segment);
            }
            return value;
        }

        /** Where a knob's value in this layer was written: {@code env}, {@code file x.conf:3}, ... */
        String origin(Knob knob) {
            return switch (source) {
                case DEFAULT, ENV, SET -> name;
                case PROFILE, FILE -> name + ":" + valueOf(knob).origin().lineNumber();
            };
        }
    }

    private final List<Layer> highestFirst;
    private final List<ConfigProblem> problems;

    private ConfigLayers(List<Layer> highestFirst, List<ConfigProblem> problems) {
        this.highestFirst = List.copyOf(highestFirst);
        this.problems = List.copyOf(problems);
    }

    static ConfigLayers build(KnobCatalog catalog, ConfigInputs inputs) {
        List<ConfigProblem> problems = new ArrayList<>();
        List<Layer> layers = new ArrayList<>();
        layers.add(new Layer(Source.SET, Source.SET.label(), setValues(catalog, inputs.sets(), problems)));
        layers.add(new Layer(Source.ENV, Source.ENV.label(), envValues(catalog, inputs.env())));
        inputs.file().ifPresent(file -> {
            String name = "file " + file;
            layers.add(new Layer(Source.FILE, name, fileValues(catalog, file, name, problems)));
        });
        inputs.profile().ifPresent(profile -> {
            String name = "profile " + profile.profileName();
            layers.add(new Layer(Source.PROFILE, name, profileValues(catalog, profile, name, problems)));
        });
        layers.add(new Layer(Source.DEFAULT, Source.DEFAULT.label(), catalog.defaults()));
        return new ConfigLayers(layers, problems);
    }

    List<ConfigProblem> problems() {
        return problems;
    }

    /** The highest layer that sets the knob; the defaults set every knob. */
    Layer topmostSetting(Knob knob) {
        return highestFirst.stream().filter(layer -> layer.sets(knob)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no default for " + knob.hoconPath()));
    }

    private static Config setValues(KnobCatalog catalog, List<String> assignments, List<ConfigProblem> problems) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String assignment : assignments) {
            int equals = assignment.indexOf('=');
            if (equals <= 0) {
                problems.add(new ConfigProblem("--set " + assignment,
                        "expected KEY=VALUE, KEY a path such as model.qk-gain-init"
                                + " or an env name such as QK_GAIN_INIT"));
                continue;
            }
            String key = assignment.substring(0, equals).strip();
            catalog.lookup(key).ifPresentOrElse(
                    knob -> values.put(knob.path(), assignment.substring(equals + 1)),
                    () -> problems.add(new ConfigProblem(key,
                            "unknown key in --set " + assignment + catalog.suggestionFor(key))));
        }
        return ConfigFactory.parseMap(values, "--set");
    }

    private static Config envValues(KnobCatalog catalog, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Knob knob : catalog.knobs()) {
            String value = env.get(knob.envName());
            if (value != null) {
                values.put(knob.path(), value);
            }
        }
        return ConfigFactory.parseMap(values, "env");
    }

    private static Config fileValues(KnobCatalog catalog, Path file, String name, List<ConfigProblem> problems) {
        if (!Files.isRegularFile(file)) {
            problems.add(new ConfigProblem(name, "no such configuration file"));
            return ConfigFactory.empty();
        }
        return pgolfSection(catalog, name, problems, () -> ConfigFactory.parseFile(file.toFile(), strictParsing()));
    }

    private static Config profileValues(KnobCatalog catalog, Profile profile, String name,
                                        List<ConfigProblem> problems) {
        return pgolfSection(catalog, name, problems,
                () -> ConfigFactory.parseResources(ConfigLayers.class, profile.resource(), strictParsing()));
    }

    /** Typesafe's message starts with the origin; the subject names it in pgolf's style instead. */
    private static ConfigProblem unreadable(String name, com.typesafe.config.ConfigException e) {
        ConfigOrigin origin = e.origin();
        if (origin == null) {
            return new ConfigProblem(name, e.getMessage());
        }
        String prefix = origin.description() + ": ";
        String detail = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
        return new ConfigProblem(origin.lineNumber() > 0 ? name + ":" + origin.lineNumber() : name, detail);
    }

    private static ConfigParseOptions strictParsing() {
        return ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false);
    }

    /**
     * Parses a HOCON source and returns its pgolf section, reporting parse errors and every key that is no knob.
     * Substitutions resolve within the source only: the environment reaches knobs through its own layer.
     */
    private static Config pgolfSection(KnobCatalog catalog, String name, List<ConfigProblem> problems,
                                       Supplier<Config> parse) {
        Config parsed;
        try {
            parsed = parse.get().resolve(ConfigResolveOptions.noSystem());
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(unreadable(name, e));
            return ConfigFactory.empty();
        }
        for (Map.Entry<String, ConfigValue> entry : parsed.entrySet()) {
            String key = entry.getKey();
            boolean known = key.startsWith(Knob.ROOT + ".")
                    && catalog.byPath(key.substring(Knob.ROOT.length() + 1)).isPresent();
            if (!known) {
                problems.add(new ConfigProblem(key, "unknown key in " + name + ":"
                        + entry.getValue().origin().lineNumber() + catalog.suggestionFor(key)));
            }
        }
        boolean hasSection = parsed.hasPath(Knob.ROOT)
                && parsed.getValue(Knob.ROOT).valueType() == ConfigValueType.OBJECT;
        return hasSection ? parsed.getConfig(Knob.ROOT) : ConfigFactory.empty();
    }
}
