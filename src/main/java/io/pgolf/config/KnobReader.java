package io.pgolf.config;

import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads knobs as typed values from the layers. Values from the environment and --set are strings and are parsed
 * strictly; a value of the wrong type is recorded as a problem and a neutral stand-in is returned, so that one pass
 * finds every such problem. Callers must check {@link #problems()} before using what they built.
 */
final class KnobReader {

    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    /** Thrown by a parser when a value does not have the expected type. */
    private static final class WrongType extends RuntimeException {
        WrongType() {
            super(null, null, false, false);
        }
    }

    private final KnobCatalog catalog;
    private final ConfigLayers layers;
    private final List<Setting> settings = new ArrayList<>();
    private final List<ConfigProblem> problems = new ArrayList<>();

    KnobReader(KnobCatalog catalog, ConfigLayers layers) {
        this.catalog = catalog;
        this.layers = layers;
    }

    /** Every knob read so far, in reading order. */
    List<Setting> settings() {
        return List.copyOf(settings);
    }

    List<ConfigProblem> problems() {
        return List.copyOf(problems);
    }

    int integer(String path) {
        return read(path, "an integer", raw -> switch (raw) {
            case Integer i -> i;
            case String s when INTEGER.matcher(s.strip()).matches() -> parseInt(s.strip());
            case null, default -> throw new WrongType();
        }, 0);
    }

    double real(String path) {
        return read(path, "a number", raw -> switch (raw) {
            case Number n -> n.doubleValue();
            case String s when DECIMAL.matcher(s.strip()).matches() -> finite(Double.parseDouble(s.strip()));
            case null, default -> throw new WrongType();
        }, 0.0);
    }

    /** true/false, or 0/1 as the reference's bool(int(..)). */
    boolean flag(String path) {
        return read(path, "a boolean (0, 1, true or false)", raw -> switch (raw) {
            case Boolean b -> b;
            case Integer i when i == 0 || i == 1 -> i == 1;
            case String s -> switch (s.strip()) {
                case "1", "true" -> true;
                case "0", "false" -> false;
                default -> throw new WrongType();
            };
            case null, default -> throw new WrongType();
        }, false);
    }

    String text(String path) {
        return read(path, "a string", raw -> switch (raw) {
            case String s -> s;
            case null, default -> throw new WrongType();
        }, "");
    }

    /** A string where empty means "not chosen". */
    Optional<String> optionalText(String path) {
        return Optional.of(text(path)).filter(s -> !s.isEmpty());
    }

    Path path(String path) {
        return read(path, "a file system path", raw -> switch (raw) {
            case String s -> {
                try {
                    yield Path.of(s);
                } catch (InvalidPathException e) {
                    throw new WrongType();
                }
            }
            case null, default -> throw new WrongType();
        }, Path.of(""));
    }

    /** One of an enum's constants, written in lower case. */
    <E extends Enum<E>> E choice(String path, Class<E> type) {
        E[] constants = type.getEnumConstants();
        String allowed = Arrays.stream(constants).map(KnobReader::lowerName).collect(Collectors.joining(", "));
        return read(path, "one of " + allowed, raw -> switch (raw) {
            case String s -> Arrays.stream(constants).filter(c -> lowerName(c).equals(s.strip())).findFirst()
                    .orElseThrow(WrongType::new);
            case null, default -> throw new WrongType();
        }, constants[0]);
    }

    private <T> T read(String path, String expected, Function<Object, T> parse, T standIn) {
        Knob knob = catalog.require(path);
        ConfigLayers.Layer layer = layers.topmostSetting(knob);
        ConfigValue raw = layer.valueOf(knob);
        String origin = layer.origin(knob);
        try {
            T value = parse.apply(raw.unwrapped());
            settings.add(new Setting(knob, ConfigValueFactory.fromAnyRef(asHocon(value)), layer.source(), origin));
            return value;
        } catch (WrongType e) {
            problems.add(ConfigProblem.of(knob, "expected " + expected + ", got "
                    + raw.render(ConfigRenderOptions.concise()) + " (from " + origin + ")"));
            return standIn;
        }
    }

    private static Object asHocon(Object value) {
        return switch (value) {
            case Path p -> p.toString();
            case Enum<?> e -> lowerName(e);
            default -> value;
        };
    }

    private static String lowerName(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }

    private static int parseInt(String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException outOfRange) {
            throw new WrongType();
        }
    }

    private static double finite(double value) {
        if (!Double.isFinite(value)) {
            throw new WrongType();
        }
        return value;
    }
}
