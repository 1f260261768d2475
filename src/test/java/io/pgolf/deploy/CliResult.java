package io.pgolf.deploy;

import java.io.PrintWriter;
import java.io.StringWriter;

/** What one in-process run of the pgolf CLI printed and returned. */
record CliResult(int exit, String out, String err) {
    static CliResult run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = PgolfCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new CliResult(exit, out.toString(), err.toString());
    }
}
