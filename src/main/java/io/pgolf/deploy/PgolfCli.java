package io.pgolf.deploy;

import io.pgolf.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pgolf} command line: one subcommand per job of the pipeline. */
@Command(name = "pgolf", mixinStandardHelpOptions = true, version = "pgolf " + PgolfCli.VERSION,
        description = "OpenAI Parameter Golf end to end on the JVM.",
        subcommands = {CommandLine.HelpCommand.class, PrepareCommand.class, TrainCommand.class, QuantizeCommand.class,
                EvalCommand.class, AuditCommand.class, ConfigCommand.class, BenchCommand.class, DemoCommand.class,
                VerifyCommand.class})
public final class PgolfCli implements Runnable {
    /** pgolf's version, which every run's journal records. */
    static final String VERSION = "0.1.0";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; errors become one line on stderr (a stack trace with PGOLF_DEBUG=1). */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new PgolfCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ConfigException) {
                cmd.getErr().println("pgolf " + cmd.getCommandName() + ": " + e.getMessage());
                return 2;
            }
            cmd.getErr().println("pgolf " + cmd.getCommandName() + ": error: " + describe(e));
            if ("1".equals(System.getenv("PGOLF_DEBUG"))) {
                e.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cli;
    }

    /** How a command was started, for its journal: {@code pgolf} and its arguments, quoted where they hold spaces. */
    static String commandLine(CommandLine.Model.CommandSpec spec) {
        StringBuilder line = new StringBuilder("pgolf");
        for (String arg : spec.commandLine().getParseResult().originalArgs()) {
            line.append(' ').append(arg.isEmpty() || arg.chars().anyMatch(Character::isWhitespace)
                    ? "'" + arg + "'" : arg);
        }
        return line.toString();
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        if (e instanceof java.io.UncheckedIOException && e.getCause() != null) {
            message = message + " (" + e.getCause().getMessage() + ")";
        }
        return message != null ? message : e.getClass().getSimpleName();
    }
}
