package io.pgolf.gpu.cuda;

import io.pgolf.config.BackendKind;
import io.pgolf.gpu.Backends;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What the build and a machine without a GPU (CI) can check of the CUDA backend. */
class CudaWithoutGpuTest {

    @Test
    void theBuildCompiledEveryKernelFileWhenNvccIsThere() throws Exception {
        assumeTrue(nvccAvailable(), "nvcc is not installed here, so the build compiled no kernels");
        List<String> fatbins = KernelModules.listedFatbins();
        try (var sources = Files.list(Path.of("src/main/cuda"))) {
            List<String> expected = sources.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .map(n -> n.replace(".cu", ".fatbin")).sorted().toList();
            assertEquals(expected, fatbins.stream().sorted().toList());
        }
        for (String fatbin : fatbins) {
            try (var in = KernelModules.class.getResourceAsStream("/io/pgolf/gpu/cuda/kernels/" + fatbin)) {
                assertTrue(in != null && in.readAllBytes().length > 1000, fatbin + " is packaged");
            }
        }
    }

    @Test
    void openingTheCudaBackendWithoutADriverSaysSo() {
        assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "this machine has an NVIDIA driver");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> Backends.open(BackendKind.CUDA, 1, 0));
        assertTrue(e.getMessage().contains("no CUDA driver here"), e.getMessage());
    }

    @Test
    void cublasLtIsLookedForWhereItIsNamedThenNextToCublasThenInTheToolkit() {
        assertEquals(List.of(Path.of("/opt/lt/libcublasLt.so.13"), Path.of("/opt/blas/libcublasLt.so.13"),
                        Path.of("/cuda/lib64/libcublasLt.so.13"), Path.of("/usr/local/cuda/lib64/libcublasLt.so.13")),
                CublasLt.libraryCandidates(Map.of("PGOLF_CUBLASLT", "/opt/lt/libcublasLt.so.13",
                        "PGOLF_CUBLAS", "/opt/blas/libcublas.so.13", "CUDA_HOME", "/cuda")));
        assertEquals(List.of(Path.of("/usr/local/cuda/lib64/libcublasLt.so.13")),
                CublasLt.libraryCandidates(Map.of("PGOLF_CUBLAS", " ")));
    }

    @Test
    void openingCublasLtWhereThereIsNoneSaysWhereItLooked() {
        assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "this machine has an NVIDIA driver");
        assumeFalse(CublasLt.libraryCandidates(System.getenv()).stream().anyMatch(Files::isRegularFile),
                "this machine has cuBLASLt");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, CublasLt::open);
        assertTrue(e.getMessage().contains("/usr/local/cuda/lib64/libcublasLt.so.13")
                && e.getMessage().contains("PGOLF_CUBLASLT"), e.getMessage());
    }

    @Test
    void poolSizeClassesRoundUpToTheirGranule() {
        assertEquals(512, DeviceMemoryPool.sizeClass(1));
        assertEquals(512, DeviceMemoryPool.sizeClass(512));
        assertEquals(1024, DeviceMemoryPool.sizeClass(513));
        assertEquals(1L << 20, DeviceMemoryPool.sizeClass((1L << 20) - 1));
        assertEquals(2L << 20, DeviceMemoryPool.sizeClass((1L << 20) + 1));
        assertEquals(100L << 20, DeviceMemoryPool.sizeClass((99L << 20) + 5));
    }

    private static boolean nvccAvailable() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "nvcc"))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"));
    }
}
