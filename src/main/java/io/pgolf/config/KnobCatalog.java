package io.pgolf.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;

import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Every knob, read off the {@code pgolf} section of reference.conf: the defaults are the one list of keys, and
 * environment names follow from them by {@link Knob#envNameOf}.
 */
public final class KnobCatalog {

    /** Edit distance up to which an unknown key is taken for a typo of a known one. */
    private static final int TYPO_DISTANCE = 3;

    private final Config defaults;
    private final Map<String, Knob> byPath = new TreeMap<>();
    private final Map<String, Knob> byEnvName = new HashMap<>();

    private KnobCatalog(Config defaults) {
        this.defaults = defaults;
        for (String path : defaults.entrySet().stream().map(Map.Entry::getKey).toList()) {
            Knob knob = Knob.of(path);
            byPath.put(path, knob);
            Knob clash = byEnvName.put(knob.envName(), knob);
            if (clash != null) {
                throw new IllegalStateException("reference.conf: " + clash.hoconPath() + " and " + knob.hoconPath()
                        + " both map to environment variable " + knob.envName());
            }
        }
    }

    /**
     * The catalog of the reference.conf files on pgolf's class path. Parsed directly rather than through
     * ConfigFactory.defaultReference, which overlays system properties: {@code -Dpgolf.*} must not add knobs.
     */
    public static KnobCatalog fromReference() {
        Config reference = ConfigFactory.parseResources(KnobCatalog.class.getClassLoader(), "reference.conf");
        if (!reference.hasPath(Knob.ROOT)) {
            throw new IllegalStateException("no reference.conf on the class path has a " + Knob.ROOT + " section");
        }
        return new KnobCatalog(reference.getConfig(Knob.ROOT).resolve(ConfigResolveOptions.noSystem()));
    }

    /** The defaults, keyed by path under {@code pgolf}. */
    public Config defaults() {
        return defaults;
    }

    /** All knobs, ordered by path. */
    public Collection<Knob> knobs() {
        return byPath.values();
    }

    public Optional<Knob> byPath(String path) {
        return Optional.ofNullable(byPath.get(path));
    }

    public Optional<Knob> byEnvName(String envName) {
        return Optional.ofNullable(byEnvName.get(envName));
    }

    /** The knob a code path asks for; its absence from reference.conf is a programming error. */
    Knob require(String path) {
        return byPath(path).orElseThrow(() -> new IllegalStateException("reference.conf has no key pgolf." + path));
    }

    /** A knob named by path ({@code model.qk-gain-init}, {@code pgolf.} prefix optional) or by env name. */
    public Optional<Knob> lookup(String key) {
        return byPath(withoutRoot(key)).or(() -> byEnvName(key));
    }

    /** The knob an unknown key was probably meant to be: same last segment in another section, or a near spelling. */
    public Optional<Knob> closestTo(String key) {
        String bare = withoutRoot(key);
        Optional<Knob> sameName = byEnvName(Knob.envNameOf(bare));
        if (sameName.isPresent()) {
            return sameName;
        }
        return byPath.values().stream()
                .map(knob -> Map.entry(knob,
                        Math.min(editDistance(bare, knob.path()), editDistance(key, knob.envName()))))
                .filter(e -> e.getValue() <= TYPO_DISTANCE)
                .min(Comparator.comparingInt(Map.Entry::getValue))
                .map(Map.Entry::getKey);
    }

    /** "; did you mean ...?" to append to an unknown-key message, or nothing. */
    String suggestionFor(String key) {
        return closestTo(key).map(k -> "; did you mean " + k.label() + "?").orElse("");
    }

    private static String withoutRoot(String key) {
        return key.startsWith(Knob.ROOT + ".") ? key.substring(Knob.ROOT.length() + 1) : key;
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
