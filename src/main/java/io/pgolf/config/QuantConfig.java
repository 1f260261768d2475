package io.pgolf.config;

/** GPTQ quantization and the artifact: {@code pgolf.quant}. */
public record QuantConfig(Compressor compressor, int gptqCalibrationBatches, double gptqReserveSeconds, int matrixBits,
                          int embedBits, double matrixClipSigmas, double embedClipSigmas, int artifactBudgetBytes) {

    static QuantConfig read(KnobReader r) {
        return new QuantConfig(r.choice("quant.compressor", Compressor.class),
                r.integer("quant.gptq-calibration-batches"), r.real("quant.gptq-reserve-seconds"),
                r.integer("quant.matrix-bits"), r.integer("quant.embed-bits"), r.real("quant.matrix-clip-sigmas"),
                r.real("quant.embed-clip-sigmas"), r.integer("quant.artifact-budget-bytes"));
    }
}
