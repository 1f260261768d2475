package io.pgolf.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.cpu.CpuBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParameterSetSaveTest {
    @TempDir
    Path dir;

    @Test
    void savedParametersLoadBackUnderTheirNamesInOrder() {
        Path file = dir.resolve("params.safetensors");
        try (CpuBackend backend = new CpuBackend(1);
             ParameterSet saved = new ParameterSet(backend);
             ParameterSet loaded = new ParameterSet(backend)) {
            saved.add("skip_weights", new float[] {1f, 2f, 3f, 4f}, 2, 2);
            saved.add("lane_merge", new float[] {0.5f});
            saved.add("tok_emb.weight", new float[] {-1f, 0.25f, 8f}, 3, 1);
            saved.saveTo(file, "ema.", Map.of("step", "7"));

            loaded.add("skip_weights", new float[4], 2, 2);
            loaded.add("lane_merge", new float[1]);
            loaded.add("tok_emb.weight", new float[3], 3, 1);
            try (SafeTensors read = SafeTensors.open(file)) {
                assertEquals(List.of("ema.skip_weights", "ema.lane_merge", "ema.tok_emb.weight"),
                        List.copyOf(read.names()));
                assertEquals(Map.of("step", "7"), read.metadata());
                loaded.loadFrom(read, "ema.");
                IllegalArgumentException wrongPrefix = assertThrows(IllegalArgumentException.class,
                        () -> loaded.loadFrom(read, "init."));
                assertTrue(wrongPrefix.getMessage().contains("missing init.lane_merge"), wrongPrefix.getMessage());
            }
            for (String name : saved.names()) {
                assertArrayEquals(saved.valuesOnHost().get(name), loaded.valuesOnHost().get(name), name);
            }
        }
    }
}
