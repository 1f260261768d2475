package io.pgolf.data.artifact;

import io.pgolf.config.ConfigInputs;
import io.pgolf.config.PgolfConfig;
import io.pgolf.model.quant.QuantizedModel;
import io.pgolf.model.quant.QuantizedTensor;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/** Quantized models with the statistics of GPTQ's output (Gaussian codes of std about qmax / 12.85). */
final class SampleModels {
    private SampleModels() {
    }

    /** Every kind of tensor, with odd sizes so that padding is exercised, and a scalar. */
    static QuantizedModel mixed(long seed) {
        Random random = new Random(seed);
        return new QuantizedModel(List.of(
                new QuantizedTensor.Float16("lane_merge", new int[0], halves(random, 1)),
                codes(random, "blocks.0.attn.c_q.weight", 6, 10, 6),
                new QuantizedTensor.Float16("blocks.0.attn.q_gain", new int[] {5}, halves(random, 5)),
                codes(random, "tok_emb.weight", 5, 7, 8),
                new QuantizedTensor.Float16("skip_weights", new int[] {2, 3}, halves(random, 6))));
    }

    static QuantizedTensor.Codes codes(Random random, String name, int rows, int cols, int bits) {
        int max = (1 << (bits - 1)) - 1;
        double std = max / 12.85;
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) Math.clamp(Math.round(random.nextGaussian() * std), -max, max);
        }
        short[] scales = new short[rows];
        for (int r = 0; r < rows; r++) {
            scales[r] = Float.floatToFloat16((float) (0.002 + 0.001 * random.nextDouble()));
        }
        return new QuantizedTensor.Codes(name, new int[] {rows, cols}, bits, codes, scales);
    }

    static short[] halves(Random random, int count) {
        short[] values = new short[count];
        for (int i = 0; i < count; i++) {
            values[i] = Float.floatToFloat16((float) random.nextGaussian());
        }
        return values;
    }

    /** The default configuration's architecture knobs. */
    static ArchitectureKnobs defaultArchitecture() {
        return ArchitectureKnobs.of(PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(), List.of())));
    }
}
