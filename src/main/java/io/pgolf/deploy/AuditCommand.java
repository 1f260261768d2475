package io.pgolf.deploy;

import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReadResult;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.TttStarted;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code pgolf audit JOURNAL}: checks an evaluation's journal against the four conditions of a legal score
 * ({@link ComplianceAudit}) and prints PASS or FAIL for each, with the first offending message. Exit 0 only when all
 * four pass.
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "Check a TTT evaluation's journal against the four conditions of a legal score: causal,"
                + " normalized, score before update, single pass. Exit 0 only if all pass.")
public final class AuditCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "JOURNAL", description = "the message journal of a TTT evaluation")
    Path journal;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        JournalReadResult read = JournalReader.readAll(journal);
        ComplianceAudit.Report report = ComplianceAudit.audit(read.entries());
        if (report.evaluation().isEmpty()) {
            out.printf(Locale.ROOT, "audit %s: no TTT evaluation (TttStarted) among its %,d messages%n", journal,
                    read.entries().size());
            out.println("verdict: FAIL");
            out.flush();
            return 1;
        }
        TttStarted started = report.evaluation().get();
        out.printf(Locale.ROOT, "audit %s: evaluation %s, %s run, %,d tokens in %d chunks, starting from weights"
                        + " version %d; %d request(s) rejected by the evaluator%n", journal, started.evaluationId(),
                started.runKind() == RunKind.RECORD ? "record" : "non-record", started.tokens(), started.chunkCount(),
                started.weightsVersion(), report.rejectedRequests());
        read.tornTail().ifPresent(torn -> out.printf(Locale.ROOT, "note: the journal ends with a torn record at"
                + " byte %d: the run stopped while writing it%n", torn.offset()));
        int failed = 0;
        for (ComplianceAudit.Condition condition : ComplianceAudit.Condition.values()) {
            String verdict = report.offense(condition).map(AuditCommand::describe).orElse("PASS");
            failed += report.offense(condition).isPresent() ? 1 : 0;
            out.printf(Locale.ROOT, "%d %-20s %s%n", condition.ordinal() + 1, condition.title(), verdict);
        }
        report.finished().ifPresent(f -> out.printf(Locale.ROOT, "reported: val_loss %.8f val_bpb %.8f over %,d"
                + " tokens, %s run%n", f.valLoss(), f.valBpb(), f.tokens(),
                f.runKind() == RunKind.RECORD ? "record" : "non-record"));
        out.println(failed == 0 ? "verdict: PASS" : "verdict: FAIL (" + failed + " of 4 conditions broken)");
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    private static String describe(ComplianceAudit.Offense offense) {
        return "FAIL  " + offense.entry().map(AuditCommand::describe).map(entry -> entry + ": ").orElse("")
                + offense.reason();
    }

    private static String describe(JournalEntry entry) {
        return "seq " + entry.seq() + " " + ComplianceAudit.describe(entry.message()) + " from " + entry.sender()
                + " to " + entry.recipient();
    }
}
