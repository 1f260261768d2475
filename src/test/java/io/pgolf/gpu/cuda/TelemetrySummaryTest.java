package io.pgolf.gpu.cuda;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TelemetrySummaryTest {
    @Test
    void summarizesClocksPowerAndTheReasonsTheClocksWereHeldDown() {
        List<TelemetrySample> samples = List.of(
                new TelemetrySample(1980, 300.0, 40, 0),
                new TelemetrySample(1700, 690.0, 52, TelemetrySample.POWER_CAP),
                new TelemetrySample(1800, 700.0, 55, TelemetrySample.POWER_CAP | 0x20L),
                new TelemetrySample(1720, 686.0, 54, 0x1L));
        TelemetrySummary summary = TelemetrySummary.of(samples, 700.0);
        assertEquals(4, summary.samples());
        assertEquals(1800.0, summary.meanSmClockMhz(), 1e-9);
        assertEquals(1700, summary.minSmClockMhz());
        assertEquals(1980, summary.maxSmClockMhz());
        assertEquals(594.0, summary.meanPowerWatts(), 1e-9);
        assertEquals(55, summary.maxTemperatureC());
        assertEquals(0.5, summary.powerCappedShare(), 1e-12);
        assertEquals(0.25, summary.thermalOrHardwareShare(), 1e-12);
        assertEquals("SM clock 1,800 MHz mean (1,700-1,980), power 594 W mean of a 700 W limit, held down by the"
                + " power cap in 50% and by heat or hardware in 25% of 4 samples, up to 55 C", summary.describe());
    }

    @Test
    void saysSoWhenTheWorkWasShorterThanOneSample() {
        TelemetrySummary summary = TelemetrySummary.of(List.of(), 700.0);
        assertEquals(0, summary.samples());
        assertTrue(summary.describe().startsWith("no NVML samples"), summary.describe());
    }

    @Test
    void refusesASampleWithoutAClockOrPower() {
        assertThrows(IllegalArgumentException.class, () -> new TelemetrySample(-1, 10, 30, 0));
        assertThrows(IllegalArgumentException.class, () -> new TelemetrySample(1500, Double.NaN, 30, 0));
    }

    @Test
    void nvmlEitherOpensOrSaysWhichLibraryIsMissing() {
        try (Nvml nvml = Nvml.open()) {
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                    () -> nvml.device("FFFF:FF:1F.7"));
            assertTrue(e.getMessage().contains("nvmlDeviceGetHandleByPciBusId_v2(FFFF:FF:1F.7)"), e.getMessage());
        } catch (CudaUnavailableException e) {
            assertTrue(e.getMessage().contains("libnvidia-ml.so.1"), e.getMessage());
        }
    }
}
