package io.pgolf.actors;

import io.pgolf.config.Compressor;
import io.pgolf.config.ConfigInputs;
import io.pgolf.config.PgolfConfig;
import io.pgolf.data.artifact.ArchitectureKnobs;
import io.pgolf.data.artifact.ArtifactBudget;
import io.pgolf.data.artifact.ArtifactReader;
import io.pgolf.data.artifact.QuantizedModelBytes;
import io.pgolf.model.quant.QuantizedModel;
import io.pgolf.model.quant.QuantizedTensor;
import io.pgolf.protocol.ArtifactEvent;
import io.pgolf.protocol.ArtifactRefused;
import io.pgolf.protocol.ArtifactWritten;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompressorActorTest {
    private static final ActorTestKit TEST_KIT = ActorTestKit.create();
    private static final ArchitectureKnobs ARCHITECTURE = ArchitectureKnobs.of(
            PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(), List.of())));

    @TempDir
    Path dir;

    @AfterAll
    static void shutDown() {
        TEST_KIT.shutdownTestKit();
    }

    private static QuantizedModel model() {
        byte[] codes = new byte[300 * 40];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (i % 7 - 3);
        }
        short[] scales = new short[300];
        Arrays.fill(scales, Float.floatToFloat16(0.01f));
        return new QuantizedModel(List.of(new QuantizedTensor.Codes("w", new int[] {300, 40}, 6, codes, scales),
                new QuantizedTensor.Float16("g", new int[] {3}, new short[] {1, 2, 3})));
    }

    @Test
    void writesAnArtifactThatFitsAndReportsItsSizes() throws IOException {
        ActorRef<CompressorActor.Compress> compressor = TEST_KIT.spawn(CompressorActor.create());
        TestProbe<ArtifactEvent> probe = TEST_KIT.createTestProbe(ArtifactEvent.class);
        Path file = dir.resolve("a.artifact");
        compressor.tell(new CompressorActor.Compress(model(), ARCHITECTURE, Compressor.ZSTD, file,
                new ArtifactBudget(16_000_000, 5_000), probe.getRef()));
        ArtifactWritten written = assertInstanceOf(ArtifactWritten.class, probe.receiveMessage());
        assertEquals(file.toString(), written.file());
        assertEquals("zstd", written.compressor());
        assertEquals(Files.size(file), written.modelBytes());
        assertEquals(Files.size(file) + 5_000, written.totalBytes());
        assertEquals(QuantizedModelBytes.encode(model()).length, written.serializedBytes());
        assertArrayEquals(model().tensors().getFirst().dequantize(),
                ArtifactReader.read(file).model().tensors().getFirst().dequantize());
    }

    @Test
    void refusesAnArtifactOverTheBudgetAndWritesNothing() {
        ActorRef<CompressorActor.Compress> compressor = TEST_KIT.spawn(CompressorActor.create());
        TestProbe<ArtifactEvent> probe = TEST_KIT.createTestProbe(ArtifactEvent.class);
        Path file = dir.resolve("b.artifact");
        compressor.tell(new CompressorActor.Compress(model(), ARCHITECTURE, Compressor.LZMA, file,
                new ArtifactBudget(1_000, 900), probe.getRef()));
        ArtifactRefused refused = assertInstanceOf(ArtifactRefused.class, probe.receiveMessage());
        assertEquals(900, refused.codeBytes());
        assertTrue(refused.modelBytes() + refused.codeBytes() > refused.budgetBytes());
        assertTrue(refused.reason().contains("nothing written"), refused.reason());
        assertFalse(Files.exists(file));
    }
}
