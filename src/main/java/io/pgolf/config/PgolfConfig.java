package io.pgolf.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * pgolf's whole configuration, typed and validated: every knob of STACK.md grouped by section
 * ({@code cfg.model().qkGainInit()}), plus the values derived from them.
 */
public record PgolfConfig(DataConfig data, ModelConfig model, TrainConfig train, OptimizerConfig optimizer,
                          QuantConfig quant, EvalConfig eval, TttConfig ttt, PrequantTttConfig prequantTtt,
                          DistributedConfig distributed, RuntimeConfig runtime) {

    /**
     * Resolves defaults < file < env < --set, then validates.
     *
     * @throws ConfigException naming every unknown key, mistyped value and broken rule
     */
    public static PgolfConfig load(Optional<Path> confFile, Map<String, String> env, List<String> setOverrides) {
        return resolve(ConfigInputs.of(confFile, env, setOverrides)).config();
    }

    /** Like {@link #load}, also telling where each value came from. */
    public static ResolvedConfig resolve(ConfigInputs inputs) {
        KnobCatalog catalog = KnobCatalog.fromReference();
        ConfigLayers layers = ConfigLayers.build(catalog, inputs);
        KnobReader reader = new KnobReader(catalog, layers);
        PgolfConfig config = new PgolfConfig(DataConfig.read(reader), ModelConfig.read(reader),
                TrainConfig.read(reader), OptimizerConfig.read(reader), QuantConfig.read(reader),
                EvalConfig.read(reader), TttConfig.read(reader), PrequantTttConfig.read(reader),
                DistributedConfig.read(reader), RuntimeConfig.read(reader));
        List<ConfigProblem> unreadable = Stream.concat(layers.problems().stream(), reader.problems().stream()).toList();
        if (!unreadable.isEmpty()) {
            throw new ConfigException(unreadable);
        }
        // Range rules run once every value has its type: a stand-in for an unreadable value would only add noise.
        List<ConfigProblem> broken = ConfigValidator.problemsOf(config, reader.settings());
        if (!broken.isEmpty()) {
            throw new ConfigException(broken);
        }
        return new ResolvedConfig(config, reader.settings(), inputs);
    }

    /** Training sequences each rank processes per micro-step. */
    public int trainSequencesPerMicroStep() {
        int ranksTimesMicroSteps = distributed.worldSize() * distributed.gradAccumSteps();
        return train.trainBatchTokens() / (ranksTimesMicroSteps * train.trainSeqLen());
    }
}
