package io.pgolf.config;

import java.util.Locale;

/**
 * One configuration key: its path under {@code pgolf} (e.g. {@code model.qk-gain-init}) and the environment
 * variable of the reference that overrides it.
 */
public record Knob(String path, String envName) {

    /** The root of pgolf's section in HOCON files. */
    public static final String ROOT = "pgolf";

    public static Knob of(String path) {
        return new Knob(path, envNameOf(path));
    }

    /** The one naming rule: last path segment, upper-cased, '-' to '_' ({@code model.qk-gain-init} -> QK_GAIN_INIT). */
    public static String envNameOf(String path) {
        String lastSegment = path.substring(path.lastIndexOf('.') + 1);
        return lastSegment.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** The path as written in a file, {@code pgolf.model.qk-gain-init}. */
    public String hoconPath() {
        return ROOT + "." + path;
    }

    /** How messages name the key: {@code pgolf.model.qk-gain-init (QK_GAIN_INIT)}. */
    public String label() {
        return hoconPath() + " (" + envName + ")";
    }
}
