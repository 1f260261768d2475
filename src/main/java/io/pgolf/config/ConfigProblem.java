package io.pgolf.config;

/**
 * One thing wrong with the configuration.
 *
 * @param subject what is wrong: a key with its environment variable, a file, or a --set argument
 * @param detail  what was expected and what was found, and where it came from
 */
public record ConfigProblem(String subject, String detail) {

    static ConfigProblem of(Knob knob, String detail) {
        return new ConfigProblem(knob.label(), detail);
    }

    @Override
    public String toString() {
        return subject + ": " + detail;
    }
}
