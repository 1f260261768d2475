package io.pgolf.protocol;

/**
 * GPTQ is done (STACK §5): {@code gptqTensors} matrices became integer codes, {@code float16Tensors} small tensors
 * passed through as float16.
 *
 * @param calibrationBatches training batches the Hessians were collected over
 * @param hessianSeconds     collecting the Hessians
 * @param gptqSeconds        quantizing every matrix
 */
public record QuantizationDone(int gptqTensors, int float16Tensors, long parameters, int calibrationBatches,
                               double hessianSeconds, double gptqSeconds) implements ArtifactEvent {
}
