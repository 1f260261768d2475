package io.pgolf.data.artifact;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import io.pgolf.config.ConfigException;
import io.pgolf.config.ConfigInputs;
import io.pgolf.config.Knob;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.config.Setting;
import io.pgolf.config.Source;
import io.pgolf.model.GptLayout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.TreeMap;

/**
 * The knobs that fix a model's architecture, everything an artifact needs to rebuild its {@link GptLayout}: every
 * {@code model.*} knob and {@code data.vocab-size}, by path, with their values as text, in path order.
 * They are rebuilt through the configuration loader, so an artifact is held to the same rules as a config file.
 */
public record ArchitectureKnobs(Map<String, String> values) {
    static final String VOCAB_SIZE = "data.vocab-size";

    public ArchitectureKnobs {
        values = Collections.unmodifiableSequencedMap(new TreeMap<>(values));
        for (String path : values.keySet()) {
            if (!isArchitecture(path)) {
                throw new IllegalArgumentException(path + " is not an architecture knob (model.* or " + VOCAB_SIZE + ")");
            }
        }
    }

    static boolean isArchitecture(String path) {
        return path.startsWith("model.") || path.equals(VOCAB_SIZE);
    }

    /** The architecture knobs of a resolved configuration. */
    public static ArchitectureKnobs of(ResolvedConfig resolved) {
        SequencedMap<String, String> values = new TreeMap<>();
        for (Setting s : resolved.settings()) {
            if (isArchitecture(s.knob().path())) {
                values.put(s.knob().path(), text(s.value()));
            }
        }
        return new ArchitectureKnobs(values);
    }

    /**
     * The architecture of a HOCON listing (as {@code pgolf train} stores in its weights' metadata): every
     * architecture knob, those the listing does not set at their defaults, values written as {@link #of} writes them.
     *
     * @param source what the listing is, for errors
     */
    public static ArchitectureKnobs fromListing(String hocon, String source) {
        Config parsed;
        try {
            parsed = ConfigFactory.parseString(hocon);
        } catch (com.typesafe.config.ConfigException e) {
            throw new IllegalArgumentException(source + ": configuration listing is not HOCON: " + e.getMessage(), e);
        }
        SequencedMap<String, String> values = new TreeMap<>();
        String prefix = Knob.ROOT + ".";
        for (Map.Entry<String, ConfigValue> entry : parsed.entrySet()) {
            String key = entry.getKey();
            if (key.startsWith(prefix) && isArchitecture(key.substring(prefix.length()))) {
                values.put(key.substring(prefix.length()), text(entry.getValue()));
            }
        }
        return of(new ArchitectureKnobs(values).resolve(source));
    }

    /**
     * The full configuration these knobs give over the defaults.
     *
     * @param source where the knobs came from, for errors
     * @throws IllegalArgumentException naming the source and every invalid knob
     */
    public PgolfConfig config(String source) {
        return resolve(source).config();
    }

    /** The layout of the model these knobs describe (its init std does not matter to a model that is loaded). */
    public GptLayout layout(String source) {
        PgolfConfig config = config(source);
        return new GptLayout(config.model(), config.data().vocabSize(), config.optimizer().tiedEmbedInitStd());
    }

    /**
     * The architecture knobs that {@code other} sets explicitly (not by default) to a value other than the one
     * these knobs fix, as "path = X, but SOURCE has Y".
     */
    public List<String> conflictsWith(ResolvedConfig other, String source) {
        ArchitectureKnobs fixed = of(resolve(source));
        List<String> conflicts = new ArrayList<>();
        for (Setting s : other.settings()) {
            String path = s.knob().path();
            if (isArchitecture(path) && s.source() != Source.DEFAULT && !text(s.value()).equals(fixed.values.get(path))) {
                conflicts.add(path + " = " + text(s.value()) + " (" + s.origin() + "), but " + source + " has "
                        + fixed.values.get(path));
            }
        }
        return conflicts;
    }

    /**
     * @throws IllegalArgumentException listing every {@link #conflictsWith conflict} when {@code other} contradicts
     *                                  these knobs
     */
    public void requireAgreement(ResolvedConfig other, String source) {
        List<String> conflicts = conflictsWith(other, source);
        if (!conflicts.isEmpty()) {
            throw new IllegalArgumentException("the configuration contradicts the model's architecture: "
                    + String.join("; ", conflicts));
        }
    }

    private ResolvedConfig resolve(String source) {
        List<String> sets = new ArrayList<>();
        values.forEach((path, value) -> sets.add(path + "=" + value));
        try {
            return PgolfConfig.resolve(new ConfigInputs(Optional.empty(), Optional.empty(), Map.of(), sets));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(source + ": invalid model configuration: " + e.getMessage(), e);
        }
    }

    private static String text(ConfigValue value) {
        return String.valueOf(value.unwrapped());
    }
}
