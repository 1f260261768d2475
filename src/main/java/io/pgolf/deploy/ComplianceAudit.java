package io.pgolf.deploy;

import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.Rejected;
import io.pgolf.protocol.ScoreChunk;
import io.pgolf.protocol.ScoredWindow;
import io.pgolf.protocol.TokenSpan;
import io.pgolf.protocol.TrainOnChunk;
import io.pgolf.protocol.TttEvent;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.TttRequest;
import io.pgolf.protocol.TttStarted;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a run's journal against the four conditions of a legal evaluation (STACK §6, parameter-golf issue #1017),
 * from the messages alone, in journal order:
 * <ol>
 *   <li>causal: every scored token's context lies before it: with causal attention, each window's scored tokens are
 *       among its targets (after its first input, at most one past its last); without, no scored token is among
 *       the window's inputs;</li>
 *   <li>normalized: every receipt's softmax normalizes over the whole vocabulary;</li>
 *   <li>score before update: every training ({@link ChunkTrained}, {@link PrequantTttTrained}) reads only tokens
 *       already scored, every accepted {@link TrainOnChunk} holds a receipt journaled before it, and no receipt
 *       scores a token with weights whose lineage trained on it;</li>
 *   <li>single pass: one evaluation, every target (tokens 1 to tokens - 1) scored exactly once over its receipts,
 *       and each receipt's token count equals what its windows score.</li>
 * </ol>
 * Requests that the evaluator rejected (a {@link Rejected} later in the journal names them) did nothing and are not
 * judged. For each condition the audit keeps the first offense.
 */
public final class ComplianceAudit {
    /** The four conditions, in the order of issue #1017. */
    public enum Condition {
        CAUSAL("causal"),
        NORMALIZED("normalized"),
        SCORE_BEFORE_UPDATE("score before update"),
        SINGLE_PASS("single pass");

        private final String title;

        Condition(String title) {
            this.title = title;
        }

        public String title() {
            return title;
        }
    }

    /** What broke a condition, and the journal entry that did it (none for a target that was never scored). */
    public record Offense(Optional<JournalEntry> entry, String reason) {
    }

    /** The audit of one journal: its evaluation (if it has one), the first offense per condition, rejections seen. */
    public record Report(Optional<TttStarted> evaluation, Optional<TttFinished> finished,
                         Map<Condition, Offense> offenses, int rejectedRequests) {
        public Report {
            offenses = Map.copyOf(offenses);
        }

        public Optional<Offense> offense(Condition condition) {
            return Optional.ofNullable(offenses.get(condition));
        }

        public boolean passed() {
            return evaluation.isPresent() && offenses.isEmpty();
        }
    }

    private final Map<Condition, Offense> offenses = new EnumMap<>(Condition.class);
    private final Map<Long, TokenSpans> seenByVersion = new HashMap<>(Map.of(0L, TokenSpans.EMPTY));
    private final List<JournalEntry> receipts = new ArrayList<>();
    private final Set<ChunkScored> issued = new HashSet<>();
    private TttStarted started;
    private TttFinished finished;
    private BitSet scored = new BitSet();
    private int rejectedRequests;

    private ComplianceAudit() {
    }

    public static Report audit(List<JournalEntry> entries) {
        ComplianceAudit audit = new ComplianceAudit();
        Set<Integer> rejected = rejectedRequests(entries);
        for (int i = 0; i < entries.size(); i++) {
            if (!rejected.contains(i)) {
                audit.check(entries.get(i));
            }
        }
        audit.rejectedRequests = rejected.size();
        audit.checkCoverage();
        return new Report(Optional.ofNullable(audit.started), Optional.ofNullable(audit.finished), audit.offenses,
                audit.rejectedRequests);
    }

    /** Indexes of the requests a later Rejected answers: each Rejected claims the latest equal request before it. */
    private static Set<Integer> rejectedRequests(List<JournalEntry> entries) {
        Set<Integer> rejected = new HashSet<>();
        for (int j = 0; j < entries.size(); j++) {
            if (entries.get(j).message() instanceof Rejected r) {
                for (int i = j - 1; i >= 0; i--) {
                    if (!rejected.contains(i) && entries.get(i).message().equals(r.request())) {
                        rejected.add(i);
                        break;
                    }
                }
            }
        }
        return rejected;
    }

    private void check(JournalEntry entry) {
        PipelineMessage message = entry.message();
        if (message instanceof TttStarted s) {
            start(entry, s);
            return;
        }
        if (!belongsToTheEvaluation(entry, message)) {
            return;
        }
        switch (message) {
            case PrequantTttTrained p -> checkTraining(entry, p.fromVersion(), p.toVersion(), p.tokensRead());
            case ChunkScored receipt -> checkReceipt(entry, receipt);
            case TrainOnChunk train -> {
                if (!issued.contains(train.receipt())) {
                    offend(Condition.SCORE_BEFORE_UPDATE, entry, "asks to train on chunk " + train.chunk()
                            + " before that chunk's receipt is in the journal");
                }
            }
            case ChunkTrained trained -> checkTraining(entry, trained.fromVersion(), trained.toVersion(),
                    trained.tokensRead());
            case TttFinished f -> finished = f;
            default -> {
            }
        }
    }

    private void start(JournalEntry entry, TttStarted s) {
        if (started != null) {
            offend(Condition.SINGLE_PASS, entry, "a second evaluation (" + s.evaluationId() + ") in the journal of "
                    + started.evaluationId() + ": its tokens would be scored again");
            return;
        }
        started = s;
        scored = new BitSet(s.tokens());
        if (!seenByVersion.containsKey(s.weightsVersion())) {
            offend(Condition.SCORE_BEFORE_UPDATE, entry, "starts from weights version " + s.weightsVersion()
                    + ", which no journaled training made");
        }
    }

    /** TTT messages must carry the evaluation's id and come after its start; pre-quant training has no id. */
    private boolean belongsToTheEvaluation(JournalEntry entry, PipelineMessage message) {
        String id = switch (message) {
            case TttEvent event -> event.evaluationId();
            case TttRequest request -> request.evaluationId();
            default -> null;
        };
        if (id == null) {
            return true;
        }
        if (started == null) {
            offend(Condition.SINGLE_PASS, entry, "comes before the evaluation's start (TttStarted)");
            return false;
        }
        if (!id.equals(started.evaluationId())) {
            offend(Condition.SINGLE_PASS, entry, "belongs to evaluation " + id + ", not to the journal's evaluation "
                    + started.evaluationId());
            return false;
        }
        return true;
    }

    private void checkReceipt(JournalEntry entry, ChunkScored receipt) {
        for (ScoredWindow w : receipt.windows()) {
            if (w.scoredCount() > 0) {
                checkCausal(entry, receipt, w);
            }
        }
        if (receipt.method().softmaxClasses() != started.vocabSize()) {
            offend(Condition.NORMALIZED, entry, receipt.method().softmaxClasses() == 0
                    ? "its scores are not normalized"
                    : "its softmax normalizes over " + receipt.method().softmaxClasses() + " classes, not the whole"
                    + " vocabulary of " + started.vocabSize());
        }
        TokenSpans seen = seenByVersion.get(receipt.weightsVersion());
        if (seen == null) {
            offend(Condition.SCORE_BEFORE_UPDATE, entry, "scores with weights version " + receipt.weightsVersion()
                    + ", which no journaled training made");
        } else {
            for (ScoredWindow w : receipt.windows()) {
                int trained = seen.firstIn(w.scoredFrom(), w.scoredTo());
                if (trained >= 0) {
                    offend(Condition.SCORE_BEFORE_UPDATE, entry, "scores token " + trained + " with weights version "
                            + receipt.weightsVersion() + ", which has trained on it");
                    break;
                }
            }
        }
        checkSinglePass(entry, receipt);
        receipts.add(entry);
        issued.add(receipt);
    }

    private void checkCausal(JournalEntry entry, ChunkScored receipt, ScoredWindow w) {
        if (w.scoredFrom() <= w.inputFrom()) {
            offend(Condition.CAUSAL, entry, "scores token " + w.scoredFrom() + " in a window whose inputs start at "
                    + w.inputFrom() + ": no context before it predicts it");
        } else if (w.scoredTo() > w.inputTo() + 1) {
            offend(Condition.CAUSAL, entry, "scores token " + (w.inputTo() + 1) + " in a window whose inputs end at "
                    + w.inputTo() + ": no input position predicts it");
        } else if (!receipt.method().causalAttention() && w.scoredFrom() < w.inputTo()) {
            offend(Condition.CAUSAL, entry, "scores token " + w.scoredFrom() + " without causal attention: its"
                    + " context is the window's inputs [" + w.inputFrom() + ", " + w.inputTo() + "), which hold it");
        }
    }

    private void checkSinglePass(JournalEntry entry, ChunkScored receipt) {
        long windowTokens = 0;
        for (ScoredWindow w : receipt.windows()) {
            windowTokens += w.scoredCount();
            if (w.scoredCount() == 0) {
                continue;
            }
            if (w.scoredFrom() < 1 || w.scoredTo() > started.tokens()) {
                offend(Condition.SINGLE_PASS, entry, "scores tokens [" + w.scoredFrom() + ", " + w.scoredTo()
                        + "), outside the targets [1, " + started.tokens() + ")");
                continue;
            }
            int again = scored.nextSetBit(w.scoredFrom());
            if (again >= 0 && again < w.scoredTo()) {
                offend(Condition.SINGLE_PASS, entry, "scores token " + again + " again (first scored at seq "
                        + firstScoredAt(again) + ")");
            }
            scored.set(w.scoredFrom(), w.scoredTo());
        }
        if (windowTokens != receipt.tokens()) {
            offend(Condition.SINGLE_PASS, entry, "counts " + receipt.tokens() + " scored tokens, but its windows"
                    + " score " + windowTokens);
        }
    }

    private long firstScoredAt(int token) {
        for (JournalEntry entry : receipts) {
            for (ScoredWindow w : ((ChunkScored) entry.message()).windows()) {
                if (w.scoredFrom() <= token && token < w.scoredTo()) {
                    return entry.seq();
                }
            }
        }
        throw new IllegalStateException("token " + token + " is marked scored but no receipt scores it");
    }

    private void checkTraining(JournalEntry entry, long fromVersion, long toVersion, TokenSpan read) {
        int firstTarget = Math.max(read.from(), 1);
        if (firstTarget < read.to()) {
            int unscored = scored.nextClearBit(firstTarget);
            if (unscored < read.to()) {
                offend(Condition.SCORE_BEFORE_UPDATE, entry, "trains on token " + unscored + " before it is scored");
            }
        }
        TokenSpans seen = seenByVersion.get(fromVersion);
        if (seen == null) {
            offend(Condition.SCORE_BEFORE_UPDATE, entry, "trains weights version " + fromVersion + ", which no"
                    + " journaled training made");
            seen = TokenSpans.EMPTY;
        }
        if (seenByVersion.containsKey(toVersion)) {
            offend(Condition.SCORE_BEFORE_UPDATE, entry, "makes weights version " + toVersion + ", which already"
                    + " exists: what each version has seen is no longer known");
        }
        seenByVersion.put(toVersion, seen.plus(read));
    }

    /** Every target must be scored: the first gap is reported against the final event, if there is one. */
    private void checkCoverage() {
        if (started == null) {
            return;
        }
        int missing = scored.nextClearBit(1);
        if (missing < started.tokens()) {
            int end = Math.min(scored.nextSetBit(missing) < 0 ? started.tokens() : scored.nextSetBit(missing),
                    started.tokens());
            offenses.putIfAbsent(Condition.SINGLE_PASS, new Offense(Optional.empty(), "tokens [" + missing + ", "
                    + end + ") are never scored" + (finished != null ? " though the evaluation reported its"
                    + " totals" : "")));
        }
    }

    private void offend(Condition condition, JournalEntry entry, String reason) {
        offenses.putIfAbsent(condition, new Offense(Optional.of(entry), reason));
    }

    /** A message in a line: its kind and the fields an auditor looks for. */
    public static String describe(PipelineMessage message) {
        return switch (message) {
            case TttStarted s -> "TttStarted(" + s.evaluationId() + ", " + s.runKind() + ", " + s.tokens()
                    + " tokens, " + s.chunkCount() + " chunks, weights version " + s.weightsVersion() + ")";
            case ScoreChunk s -> "ScoreChunk(chunk " + s.chunk() + ")";
            case ChunkScored r -> "ChunkScored(chunk " + r.chunk() + ", " + r.windows().size() + " windows scoring"
                    + " tokens [" + r.windows().getFirst().scoredFrom() + ", " + r.windows().getLast().scoredTo()
                    + "), weights version " + r.weightsVersion() + (r.lastChunk() ? ", last chunk" : "") + ")";
            case TrainOnChunk t -> "TrainOnChunk(receipt of chunk " + t.chunk() + ")";
            case ChunkTrained t -> "ChunkTrained(chunk " + t.chunk() + ", tokens " + t.tokensRead() + ", weights"
                    + " version " + t.fromVersion() + " -> " + t.toVersion() + ")";
            case PrequantTttTrained p -> "PrequantTttTrained(tokens " + p.tokensRead() + ", " + p.epochs()
                    + " epochs, weights version " + p.fromVersion() + " -> " + p.toVersion() + ")";
            case Rejected r -> "Rejected(" + describe(r.request()) + ": " + r.reason() + ")";
            case TttFinished f -> "TttFinished(" + f.runKind() + ", val_bpb " + f.valBpb() + ")";
            default -> message.getClass().getSimpleName();
        };
    }
}
