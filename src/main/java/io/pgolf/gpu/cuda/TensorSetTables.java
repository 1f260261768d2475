package io.pgolf.gpu.cuda;

import io.pgolf.gpu.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The device tables of the multi-tensor kernels (PgTensorSet of src/main/cuda/optimizer_ops.cu): per set of aligned
 * operands, its first chunk of {@link #CHUNK} values, its value count, then each operand's address and dtype code,
 * in 64-bit words. An optimizer passes the same lists every step, so a table is uploaded once and kept, keyed by its
 * own contents: a table found under a key holds exactly those addresses, whatever happened to the tensors between.
 * The least recently used tables beyond {@link #CAPACITY} are freed (the one stream orders that after their use).
 */
final class TensorSetTables {
    /** Values per chunk, one block each; PG_CHUNK of optimizer_ops.cu. */
    static final int CHUNK = 16384;
    private static final int CAPACITY = 64;

    /** A table on the device: its address, its number of sets, and the chunks (blocks) they span. */
    record Table(long address, int sets, int chunks) {
    }

    private final CudaTensorOps tensors;
    private final Map<List<Long>, Stored> tables = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Long>, Stored> eldest) {
            if (size() <= CAPACITY) {
                return false;
            }
            eldest.getValue().tensor.close();
            return true;
        }
    };

    private record Stored(Tensor tensor, Table table) {
    }

    TensorSetTables(CudaTensorOps tensors) {
        this.tensors = tensors;
    }

    /**
     * The table of the sets (operands.get(0).get(i), operands.get(1).get(i), ...): every list as long as the first,
     * and the tensors of one set of equal size.
     *
     * @param what names the operands in errors
     */
    Table of(List<List<Tensor>> operands, String what) {
        int sets = operands.getFirst().size();
        if (sets == 0) {
            throw new IllegalArgumentException(what + ": no tensors");
        }
        for (List<Tensor> operand : operands) {
            if (operand.size() != sets) {
                throw new IllegalArgumentException(what + ": lists of " + sets + " and " + operand.size() + " tensors");
            }
        }
        List<Long> words = new ArrayList<>(sets * (2 + 2 * operands.size()));
        long chunks = 0;
        for (int i = 0; i < sets; i++) {
            long n = operands.getFirst().get(i).size();
            words.add(chunks);
            words.add(n);
            for (List<Tensor> operand : operands) {
                Tensor t = operand.get(i);
                if (t.size() != n) {
                    throw new IllegalArgumentException(what + ": tensor " + i + " is " + t.describe() + ", its first "
                            + "operand " + operands.getFirst().get(i).describe());
                }
                words.add(CudaTensor.of(t).address());
            }
            for (List<Tensor> operand : operands) {
                words.add((long) operand.get(i).dtype().ordinal());
            }
            chunks += Math.max(1, Math.ceilDiv(n, CHUNK));
        }
        if (chunks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + ": " + chunks + " chunks exceed a grid");
        }
        long totalChunks = chunks;
        return tables.computeIfAbsent(words, w -> upload(w, sets, (int) totalChunks)).table;
    }

    private Stored upload(List<Long> words, int sets, int chunks) {
        int[] halves = new int[2 * words.size()];
        for (int i = 0; i < words.size(); i++) {
            long word = words.get(i);
            halves[2 * i] = (int) word;
            halves[2 * i + 1] = (int) (word >>> 32);
        }
        Tensor tensor = tensors.uploadInts(halves, halves.length);
        return new Stored(tensor, new Table(CudaTensor.of(tensor).address(), sets, chunks));
    }
}
