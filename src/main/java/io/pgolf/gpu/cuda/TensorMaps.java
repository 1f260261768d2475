package io.pgolf.gpu.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Tensor maps (CUtensorMap, 128 opaque bytes) that tell Hopper's tensor memory accelerator how to copy boxes of a
 * row-major bf16 matrix into shared memory, encoded by the driver's cuTensorMapEncodeTiled (libcuda.so.1, which JCuda
 * 12.6 does not bind). A kernel takes one by value as a {@code const __grid_constant__ CUtensorMap} parameter
 * ({@link KernelArgs#bytes}). Maps are encoded per launch (host-side work only, no GPU call; its cost was not
 * measured, so nothing is cached).
 */
final class TensorMaps {
    private static final String LIBRARY = "libcuda.so.1";
    /** sizeof(CUtensorMap), and its alignment. */
    static final int MAP_BYTES = 128;
    private static final int BFLOAT16 = 9;
    private static final int INTERLEAVE_NONE = 0;
    private static final int SWIZZLE_128B = 3;
    private static final int L2_PROMOTION_256B = 3;
    /** Out-of-bounds elements of a box read as zeros. */
    private static final int OOB_FILL_ZEROS = 0;
    private static final int CUDA_SUCCESS = 0;

    private final NativeLibrary library;
    private final MethodHandle encodeTiled;

    private TensorMaps(NativeLibrary library) {
        this.library = library;
        this.encodeTiled = library.function("cuTensorMapEncodeTiled", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT));
    }

    /** The driver's encoder; a {@link CudaUnavailableException} says why it cannot be had. */
    static TensorMaps open() {
        return new TensorMaps(NativeLibrary.onLoaderPath(LIBRARY, "pgolf needs a CUDA 12 driver or newer",
                "the CUDA driver (" + LIBRARY + ") not found on the loader's path"));
    }

    /**
     * The map of the bf16 matrix at {@code address}, {@code rows} x {@code cols} row-major (cols a multiple of 8, so
     * that rows start 16-byte aligned), copied in boxes of {@code boxCols} x {@code boxRows} with the 128-byte
     * swizzle (boxCols * 2 at most 128 bytes), elements past the matrix read as zeros.
     */
    byte[] bf16RowMajor(long address, int rows, int cols, int boxCols, int boxRows) {
        if (cols % 8 != 0 || boxCols * 2 > 128) {
            throw new IllegalArgumentException("tensor map of a " + rows + " x " + cols + " bf16 matrix in boxes of "
                    + boxCols + " columns: columns must be a multiple of 8, a box row at most 128 bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment map = arena.allocate(MAP_BYTES, MAP_BYTES);
            MemorySegment dims = arena.allocateFrom(ValueLayout.JAVA_LONG, cols, rows);
            MemorySegment strides = arena.allocateFrom(ValueLayout.JAVA_LONG, 2L * cols);
            MemorySegment box = arena.allocateFrom(JAVA_INT, boxCols, boxRows);
            MemorySegment elementStrides = arena.allocateFrom(JAVA_INT, 1, 1);
            int status = library.call(encodeTiled, map, BFLOAT16, 2, MemorySegment.ofAddress(address), dims, strides,
                    box, elementStrides, INTERLEAVE_NONE, SWIZZLE_128B, L2_PROMOTION_256B, OOB_FILL_ZEROS);
            if (status != CUDA_SUCCESS) {
                throw new IllegalStateException("cuTensorMapEncodeTiled failed (CUresult " + status + ") for a "
                        + rows + " x " + cols + " bf16 matrix at 0x" + Long.toHexString(address));
            }
            return map.toArray(ValueLayout.JAVA_BYTE);
        }
    }
}
