package io.pgolf.model.eval;

import io.pgolf.data.SafeTensors;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.shard.Shards;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.Backend;
import io.pgolf.model.Gpt;
import io.pgolf.model.TinyReference;
import io.pgolf.protocol.Tokens;
import io.pgolf.testing.SharedFiles;

import java.io.IOException;
import java.nio.file.Path;

/** The tiny reference's evaluation inputs: its tokenizer's byte tables, the shared validation tokens, its model. */
final class EvalFixtures {
    static final int VOCAB = 1024;

    private EvalFixtures() {
    }

    static ByteTables tables() {
        return ByteTables.of(SentencePieceModel.load(SharedFiles.tokenizer(VOCAB)), VOCAB);
    }

    /**
     * The first {@code count} tokens of the shared sp1024 validation split cut to whole windows of seqLen plus one
     * (the fixture's 2,049 tokens are these for seqLen 32), decompressed into {@code dir}.
     */
    static Tokens validationPrefix(Path dir, int seqLen, int count) throws IOException {
        SharedFiles.unxz(SharedFiles.file("data/datasets/fineweb10B_sp1024/fineweb_val_000000.bin.xz"), dir);
        return Tokens.of(Shards.validationTokens(dir, seqLen).toIntArray(), 0, count);
    }

    /** The tiny model with the fixture's weights under {@code prefix} ("init.", "step1.") and the depth loop on. */
    static Gpt model(Backend backend, TinyReference reference, SafeTensors fixture, String prefix) {
        Gpt model = Gpt.zeros(backend, reference.layout());
        model.parameters().loadFrom(fixture, prefix);
        model.setLooping(true);
        return model;
    }
}
