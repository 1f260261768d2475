package io.pgolf.config;

import com.typesafe.config.ConfigRenderOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The rules a typed configuration must satisfy before anything runs. Every broken rule is reported, each naming
 * the key, its environment variable, what was expected, the value found and where it came from.
 */
final class ConfigValidator {

    private static final int MAX_VOCAB = 1 << 16;
    private static final int MIN_BITS = 2;
    private static final int MAX_BITS = 8;

    private final Map<String, Setting> settingsByPath;
    private final List<ConfigProblem> problems = new ArrayList<>();

    private ConfigValidator(List<Setting> settings) {
        this.settingsByPath = settings.stream().collect(Collectors.toMap(s -> s.knob().path(), Function.identity()));
    }

    static List<ConfigProblem> problemsOf(PgolfConfig config, List<Setting> settings) {
        ConfigValidator validator = new ConfigValidator(settings);
        validator.data(config.data());
        validator.model(config.model());
        validator.train(config.train(), config.distributed());
        validator.optimizer(config.optimizer());
        validator.quant(config.quant(), config.train());
        validator.eval(config.eval(), config.distributed());
        validator.ttt(config.ttt(), config.prequantTtt(), config.model());
        validator.distributed(config.distributed());
        return List.copyOf(validator.problems);
    }

    private void data(DataConfig d) {
        require(!d.dataDir().toString().isBlank(), "data.data-dir", "a directory");
        between("data.vocab-size", 1, MAX_VOCAB, d.vocabSize(), "an integer in [1, 65536] (tokens are uint16)");
        atLeast("data.num-val-docs", 1, d.numValDocs());
        atLeast("data.shard-tokens", 1, d.shardTokens());
    }

    private void model(ModelConfig m) {
        atLeast("model.num-layers", 1, m.numLayers());
        between("model.xsa-last-n", 0, m.numLayers(), m.xsaLastN(),
                "an integer in [0, num-layers " + m.numLayers() + "]");
        atLeast("model.model-dim", 1, m.modelDim());
        atLeast("model.embedding-dim", 1, m.embeddingDim());
        atLeast("model.num-heads", 1, m.numHeads());
        atLeast("model.num-kv-heads", 1, m.numKvHeads());
        if (m.numHeads() >= 1 && m.numKvHeads() >= 1) {
            require(m.numHeads() % m.numKvHeads() == 0, "model.num-kv-heads",
                    "a divisor of num-heads (NUM_HEADS) " + m.numHeads());
        }
        if (m.numHeads() >= 1 && m.modelDim() >= 1) {
            boolean wholeHeads = m.modelDim() % m.numHeads() == 0;
            require(wholeHeads, "model.model-dim", "a multiple of num-heads (NUM_HEADS) " + m.numHeads());
            if (wholeHeads) {
                int headDim = m.headDim();
                int rotated = m.ropeDims() == 0 ? headDim : m.ropeDims();
                require(m.ropeDims() >= 0 && m.ropeDims() <= headDim && rotated % 2 == 0, "model.rope-dims",
                        "an even number in [0, head_dim " + headDim + "] (0 rotates the whole head)");
            }
        }
        require(m.mlpMult() > 0 && m.mlpHidden() >= 1, "model.mlp-mult",
                "a positive multiplier giving at least one hidden unit of model-dim " + m.modelDim());
        positive("model.logit-softcap", m.logitSoftcap());
        positive("model.rope-base", m.ropeBase());
        atLeast("model.rope-train-seq-len", 1, m.ropeTrainSeqLen());
        atLeast("model.num-loops", 0, m.numLoops());
        between("model.loop-end", 0, m.numLayers() - 1, m.loopEnd(),
                "a layer in [0, num-layers - 1 = " + (m.numLayers() - 1) + "]");
        between("model.loop-start", 0, m.loopEnd(), m.loopStart(),
                "a layer in [0, loop-end (LOOP_END) " + m.loopEnd() + "]");
        fraction("model.enable-looping-at", m.enableLoopingAt());
        int parallelStart = m.parallelResidualStart();
        boolean inModel = parallelStart >= 0 && parallelStart < m.numLayers();
        require(parallelStart == ModelConfig.PARALLEL_RESIDUAL_OFF || inModel, "model.parallel-residual-start",
                "-1 (off) or a layer in [0, " + (m.numLayers() - 1) + "]");
    }

    private void train(TrainConfig t, DistributedConfig dist) {
        atLeast("train.seed", 0, t.seed());
        atLeast("train.iterations", 1, t.iterations());
        fraction("train.warmdown-frac", t.warmdownFrac());
        atLeast("train.warmup-steps", 0, t.warmupSteps());
        atLeast("train.train-seq-len", 1, t.trainSeqLen());
        atLeast("train.train-log-every", 0, t.trainLogEvery());
        require(t.maxWallclockSeconds() >= 0, "train.max-wallclock-seconds", "seconds >= 0 (0 = no cap)");
        if (validWorldSize(dist) && t.trainSeqLen() >= 1) {
            long sequenceTokens = (long) DistributedConfig.RECORD_GPUS * t.trainSeqLen();
            require(t.trainBatchTokens() >= sequenceTokens && t.trainBatchTokens() % sequenceTokens == 0,
                    "train.train-batch-tokens", "a positive multiple of " + sequenceTokens + " = " + rankLayout(dist)
                            + " x train-seq-len (TRAIN_SEQ_LEN) " + t.trainSeqLen()
                            + ", so that each rank's micro-batch is whole sequences");
        } else {
            atLeast("train.train-batch-tokens", 1, t.trainBatchTokens());
        }
    }

    private void optimizer(OptimizerConfig o) {
        fraction("optimizer.min-lr", o.minLr());
        nonNegative("optimizer.embed-lr", o.embedLr());
        nonNegative("optimizer.head-lr", o.headLr());
        nonNegative("optimizer.tied-embed-lr", o.tiedEmbedLr());
        positive("optimizer.tied-embed-init-std", o.tiedEmbedInitStd());
        nonNegative("optimizer.matrix-lr", o.matrixLr());
        nonNegative("optimizer.scalar-lr", o.scalarLr());
        momentum("optimizer.muon-momentum", o.muonMomentum());
        atLeast("optimizer.muon-backend-steps", 1, o.muonBackendSteps());
        momentum("optimizer.muon-momentum-warmup-start", o.muonMomentumWarmupStart());
        atLeast("optimizer.muon-momentum-warmup-steps", 0, o.muonMomentumWarmupSteps());
        momentum("optimizer.beta1", o.beta1());
        momentum("optimizer.beta2", o.beta2());
        positive("optimizer.adam-eps", o.adamEps());
        nonNegative("optimizer.grad-clip-norm", o.gradClipNorm());
        momentum("optimizer.muon-beta2", o.muonBeta2());
        nonNegative("optimizer.adam-wd", o.adamWd());
        nonNegative("optimizer.muon-wd", o.muonWd());
        nonNegative("optimizer.embed-wd", o.embedWd());
        fraction("optimizer.ema-decay", o.emaDecay());
    }

    private void quant(QuantConfig q, TrainConfig t) {
        atLeast("quant.gptq-calibration-batches", 1, q.gptqCalibrationBatches());
        nonNegative("quant.gptq-reserve-seconds", q.gptqReserveSeconds());
        if (t.maxWallclockSeconds() > 0) {
            require(q.gptqReserveSeconds() < t.maxWallclockSeconds(), "quant.gptq-reserve-seconds",
                    "less than max-wallclock-seconds (MAX_WALLCLOCK_SECONDS) " + t.maxWallclockSeconds());
        }
        between("quant.matrix-bits", MIN_BITS, MAX_BITS, q.matrixBits(), "bits in [2, 8]");
        between("quant.embed-bits", MIN_BITS, MAX_BITS, q.embedBits(), "bits in [2, 8]");
        positive("quant.matrix-clip-sigmas", q.matrixClipSigmas());
        positive("quant.embed-clip-sigmas", q.embedClipSigmas());
        atLeast("quant.artifact-budget-bytes", 1, q.artifactBudgetBytes());
    }

    private void eval(EvalConfig e, DistributedConfig dist) {
        atLeast("eval.eval-seq-len", 1, e.evalSeqLen());
        atLeast("eval.val-loss-every", 0, e.valLossEvery());
        between("eval.eval-stride", 1, e.evalSeqLen(), e.evalStride(),
                "an integer in [1, eval-seq-len (EVAL_SEQ_LEN) " + e.evalSeqLen() + "]");
        atLeast("eval.sliding-batch-seqs", 1, e.slidingBatchSeqs());
        if (validWorldSize(dist) && e.evalSeqLen() >= 1) {
            long sequenceTokens = (long) DistributedConfig.RECORD_GPUS * e.evalSeqLen();
            require(e.valBatchTokens() >= sequenceTokens, "eval.val-batch-tokens", "at least " + sequenceTokens
                    + " = " + rankLayout(dist) + " x eval-seq-len (EVAL_SEQ_LEN) " + e.evalSeqLen()
                    + ", one sequence per rank and micro-step");
        } else {
            atLeast("eval.val-batch-tokens", 1, e.valBatchTokens());
        }
    }

    private void ttt(TttConfig t, PrequantTttConfig p, ModelConfig m) {
        nonNegative("ttt.ttt-lr", t.tttLr());
        momentum("ttt.ttt-momentum", t.tttMomentum());
        atLeast("ttt.ttt-epochs", 1, t.tttEpochs());
        atLeast("ttt.ttt-chunk-tokens", 1, t.tttChunkTokens());
        between("ttt.ttt-freeze-blocks", 0, m.numLayers(), t.tttFreezeBlocks(),
                "a block count in [0, num-layers " + m.numLayers() + "]");
        nonNegative("ttt.ttt-grad-clip", t.tttGradClip());
        atLeast("ttt.ttt-batch-seqs", 1, t.tttBatchSeqs());
        nonNegative("prequant-ttt.prequant-ttt-lr", p.prequantTttLr());
        atLeast("prequant-ttt.prequant-ttt-epochs", 1, p.prequantTttEpochs());
        between("prequant-ttt.prequant-ttt-freeze-blocks", 0, m.numLayers(), p.prequantTttFreezeBlocks(),
                "a block count in [0, num-layers " + m.numLayers() + "]");
    }

    private void distributed(DistributedConfig d) {
        require(validWorldSize(d), "distributed.world-size", "1, 2, 4 or 8 (a divisor of the record's 8 GPUs)");
        if (d.worldSize() >= 1) {
            String ranks = "a rank in [0, world-size (WORLD_SIZE) - 1 = " + (d.worldSize() - 1) + "]";
            between("distributed.rank", 0, d.worldSize() - 1, d.rank(), ranks);
            between("distributed.local-rank", 0, d.worldSize() - 1, d.localRank(), ranks);
        }
    }

    private static String rankLayout(DistributedConfig d) {
        return "world-size (WORLD_SIZE) " + d.worldSize() + " x grad-accum-steps " + d.gradAccumSteps();
    }

    private static boolean validWorldSize(DistributedConfig d) {
        return d.worldSize() >= 1 && d.worldSize() <= DistributedConfig.RECORD_GPUS
                && DistributedConfig.RECORD_GPUS % d.worldSize() == 0;
    }

    private void atLeast(String path, long min, long value) {
        require(value >= min, path, min == 1 ? "a positive integer" : "an integer >= " + min);
    }

    private void between(String path, long min, long max, long value, String expected) {
        require(value >= min && value <= max, path, expected);
    }

    private void positive(String path, double value) {
        require(value > 0, path, "a positive number");
    }

    private void nonNegative(String path, double value) {
        require(value >= 0, path, "a number >= 0");
    }

    private void fraction(String path, double value) {
        require(value >= 0 && value <= 1, path, "a fraction in [0, 1]");
    }

    /** Momenta and Adam betas: at 1 the average never forgets a gradient, and Adam's bias correction divides by 0. */
    private void momentum(String path, double value) {
        require(value >= 0 && value < 1, path, "a number in [0, 1)");
    }

    private void require(boolean holds, String path, String expected) {
        // Looked up whether or not the rule holds, so that a misspelt path fails every load, not just a bad one.
        Setting setting = settingsByPath.get(path);
        if (setting == null) {
            throw new IllegalStateException("validation rule for unknown key pgolf." + path);
        }
        if (!holds) {
            problems.add(ConfigProblem.of(setting.knob(), "expected " + expected + ", got "
                    + setting.value().render(ConfigRenderOptions.concise()) + " (from " + setting.origin() + ")"));
        }
    }
}
