package io.pgolf.deploy;

import io.pgolf.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pgolf} command line: one subcommand per job of the pipeline. */
@Command(name = "pgolf", mixinStandardHelpOptions = true, version = "pgolf " + Invocation.VERSION,
        description = "OpenAI Parameter Golf end to end on the JVM.",
        subcommands = {CommandLine.HelpCommand.class, PrepareCommand.class, TrainCommand.class, QuantizeCommand.class,
                EvalCommand.class, AuditCommand.class, ReplayCommand.class, ConfigCommand.class, BenchCommand.class,
                DemoCommand.class, VerifyCommand.class, GpuInfoCommand.class, GpuParityCommand.class})
public final class PgolfCli implements Runnable {

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
        cli.setCaseInsensitiveEnumValuesAllowed(true);
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

    private static String describe(Throwable e) {
        String message = e.getMessage();
        if (e instanceof java.io.UncheckedIOException && e.getCause() != null) {
            message = message + " (" + e.getCause().getMessage() + ")";
        }
        return message != null ? message : e.getClass().getSimpleName();
    }
}
