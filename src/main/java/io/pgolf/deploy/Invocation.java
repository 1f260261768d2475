package io.pgolf.deploy;

import picocli.CommandLine.Model.CommandSpec;

/** How pgolf was invoked, as a run's journal records it: its version and the command line. */
final class Invocation {
    static final String VERSION = "0.1.0";

    private Invocation() {
    }

    /** {@code pgolf} and the arguments of the command being run, quoted where they hold spaces. */
    static String commandLine(CommandSpec spec) {
        StringBuilder line = new StringBuilder("pgolf");
        for (String arg : spec.commandLine().getParseResult().originalArgs()) {
            line.append(' ').append(arg.isEmpty() || arg.chars().anyMatch(Character::isWhitespace)
                    ? "'" + arg + "'" : arg);
        }
        return line.toString();
    }
}
