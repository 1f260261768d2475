package io.pgolf.deploy;

import io.pgolf.config.PgolfConfig;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.shard.Shards;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.protocol.Tokens;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** The plain evaluation the commands run: the validation split in EVAL_SEQ_LEN windows, batched as the reference. */
final class PlainValidation {
    private PlainValidation() {
    }

    /**
     * @param valTokens when present, only the first whole windows within this many tokens are scored (a bpb that is
     *                  not the challenge's)
     */
    static PlainEvaluation of(Path dataset, PgolfConfig cfg, ByteTables tables, Optional<Long> valTokens)
            throws IOException {
        return of(tokens(dataset, cfg.eval().evalSeqLen(), valTokens), cfg, tables);
    }

    /** @param tokens validation tokens as {@link #tokens} reads them */
    static PlainEvaluation of(Tokens tokens, PgolfConfig cfg, ByteTables tables) {
        return new PlainEvaluation(tokens, cfg.eval().evalSeqLen(), batchSeqs(cfg), tables);
    }

    /** Windows per batch: a rank's share of VAL_BATCH_TOKENS per micro-step, as the reference batches them. */
    static int batchSeqs(PgolfConfig cfg) {
        return Math.max(1, cfg.eval().valBatchTokens()
                / (cfg.distributed().worldSize() * cfg.distributed().gradAccumSteps()) / cfg.eval().evalSeqLen());
    }

    /**
     * The validation tokens, a multiple of seqLen plus one: all of them, or the first whole windows within
     * {@code valTokens}.
     */
    static Tokens tokens(Path dataset, int seqLen, Optional<Long> valTokens) throws IOException {
        Tokens all = Shards.validationTokens(dataset, seqLen);
        if (valTokens.isEmpty()) {
            return all;
        }
        long windows = Math.min((all.length() - 1) / seqLen, valTokens.get() / seqLen);
        if (windows < 1) {
            throw new IllegalArgumentException("--val-tokens " + valTokens.get() + " is less than one window of " + seqLen
                    + " tokens");
        }
        return Tokens.of(all.toIntArray(), 0, Math.toIntExact(windows * seqLen + 1));
    }
}
