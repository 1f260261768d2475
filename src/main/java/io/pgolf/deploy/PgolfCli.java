package io.pgolf.deploy;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pgolf} command line: one subcommand per job of the pipeline. */
@Command(name = "pgolf", mixinStandardHelpOptions = true, version = "pgolf 0.1.0",
        description = "OpenAI Parameter Golf end to end on the JVM.",
        subcommands = {CommandLine.HelpCommand.class, ConfigCommand.class})
public final class PgolfCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new PgolfCli()).execute(args));
    }
}
