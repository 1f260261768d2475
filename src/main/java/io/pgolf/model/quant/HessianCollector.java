package io.pgolf.model.quant;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.Gpt;
import io.pgolf.model.Parameter;
import io.pgolf.protocol.TrainBatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Calibration for GPTQ, as the reference's collect_hessians: runs the model forward (no gradients) over calibration
 * batches and, for each requested weight, adds X^T X of its linear layer's input into a float32 accumulator on the
 * model's backend, every time the layer runs (a looped layer contributes once per pass). The tied
 * {@code tok_emb.weight} gets the final norm's output, which is its head's input. Each sum is divided by the number
 * of batches, not of tokens; GPTQ's damping is relative, so only the proportions matter. Weights that read the same
 * input one after another (q, k and v) share its X^T X: one GEMM, added into each weight's sum (the same float32
 * sums as a GEMM accumulating into each).
 *
 * <p>The model runs with its current depth-loop setting: the reference calibrates the EMA model as training left
 * it, with the loop on.
 */
public final class HessianCollector {
    private HessianCollector() {
    }

    /** The Hessians of {@code weightNames} (parameters the forward uses as linear weights) over {@code batches}. */
    public static Hessians collect(Gpt model, Iterable<TrainBatch> batches, Collection<String> weightNames) {
        Backend backend = model.parameters().backend();
        SequencedMap<String, Tensor> sums = new LinkedHashMap<>();
        try (InputProduct product = new InputProduct(backend)) {
            for (String name : weightNames) {
                int[] shape = model.parameters().get(name).shape();
                if (shape.length != 2) {
                    throw new IllegalArgumentException(name + " is not a matrix: shape " + Arrays.toString(shape));
                }
                sums.put(name, backend.tensors().zeros(DType.F32, shape[1], shape[1]));
            }
            Map<String, Integer> observed = new LinkedHashMap<>();
            int count = 0;
            for (TrainBatch batch : batches) {
                try (Tensor ids = backend.tensors().uploadInts(inputIds(batch), batch.rows() * batch.seqLen())) {
                    model.observeLinearInputs(ids, batch.rows(), batch.seqLen(), (Parameter weight, Tensor input) -> {
                        Tensor sum = sums.get(weight.name());
                        if (sum != null) {
                            backend.tensors().axpby(1f, product.of(input), 1f, sum);
                            observed.merge(weight.name(), 1, Integer::sum);
                        }
                    });
                }
                count++;
            }
            if (count == 0) {
                throw new IllegalArgumentException("GPTQ calibration needs at least one batch");
            }
            List<String> unseen = new ArrayList<>(sums.keySet());
            unseen.removeAll(observed.keySet());
            if (!unseen.isEmpty()) {
                throw new IllegalArgumentException("no linear layer of the forward uses the weights " + unseen);
            }
            SequencedMap<String, Hessian> hessians = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : sums.entrySet()) {
                float[] values = backend.tensors().download(e.getValue());
                for (int i = 0; i < values.length; i++) {
                    values[i] /= count;
                }
                hessians.put(e.getKey(), new Hessian(e.getKey(), e.getValue().dim(0), values));
            }
            return new Hessians(hessians, count);
        } finally {
            sums.values().forEach(Tensor::close);
        }
    }

    /** X^T X of the last linear input asked for, computed once for the weights that read that same tensor. */
    private static final class InputProduct implements AutoCloseable {
        private final Backend backend;
        private Tensor input;
        private Tensor product;

        InputProduct(Backend backend) {
            this.backend = backend;
        }

        Tensor of(Tensor x) {
            if (x != input) {
                int d = x.dim(-1);
                if (product == null || product.dim(0) != d) {
                    close();
                    product = backend.tensors().empty(DType.F32, d, d);
                }
                backend.tensors().gemm(true, false, 1f, x, x, 0f, product);
                input = x;
            }
            return product;
        }

        @Override
        public void close() {
            if (product != null) {
                product.close();
                product = null;
            }
            input = null;
        }
    }

    private static int[] inputIds(TrainBatch batch) {
        int[] ids = new int[batch.rows() * batch.seqLen()];
        for (int r = 0; r < batch.rows(); r++) {
            for (int t = 0; t < batch.seqLen(); t++) {
                ids[r * batch.seqLen() + t] = batch.input(r, t);
            }
        }
        return ids;
    }
}
