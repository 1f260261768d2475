package io.pgolf.protocol;

/**
 * What the quantization stage reports: GPTQ's summary, then the artifact written or refused. The quantized model
 * itself travels between the Quantizer and the Compressor as a local reference inside one JVM (rank 0 quantizes
 * and writes, as in the reference); it is never serialized as a message, only these summaries are.
 */
public sealed interface ArtifactEvent extends PipelineMessage permits QuantizationDone, ArtifactWritten, ArtifactRefused {
}
