package io.pgolf.gpu.cuda;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Samples a GPU's SM clock, power, temperature and clock-limiting reasons through NVML while work runs, so that a
 * benchmark can say what the GPU ran at: an H100 training the record model sits at its 700 W limit with its clocks
 * held below their maximum, which is why the same build measures differently from one machine to the next.
 */
public final class GpuTelemetry implements AutoCloseable {
    /** NVML refreshes power about every 20-100 ms; sampling faster would only repeat readings. */
    static final Duration PERIOD = Duration.ofMillis(20);

    private final Nvml nvml;
    private final MemorySegment device;
    private final double powerLimitWatts;
    private final Set<Recording> running = ConcurrentHashMap.newKeySet();

    private GpuTelemetry(Nvml nvml, MemorySegment device) {
        this.nvml = nvml;
        this.device = device;
        this.powerLimitWatts = nvml.powerLimitMilliwatts(device) / 1000.0;
    }

    /** Telemetry of {@code device}; a {@link CudaUnavailableException} says why there is none (no NVML). */
    public static GpuTelemetry open(CudaDevice device) {
        Nvml nvml = Nvml.open();
        try {
            return new GpuTelemetry(nvml, nvml.device(device.pciBusId()));
        } catch (RuntimeException e) {
            nvml.close();
            throw e;
        }
    }

    /** Starts sampling on a thread of its own until the recording is stopped (or this telemetry closed). */
    public Recording record() {
        Recording recording = new Recording();
        running.add(recording);
        return recording;
    }

    /** One sampling run. */
    public final class Recording implements AutoCloseable {
        private final List<TelemetrySample> samples = new ArrayList<>();
        private final Thread sampler;
        private volatile boolean sampling = true;
        private RuntimeException failure;

        private Recording() {
            sampler = Thread.ofPlatform().daemon().name("gpu-telemetry").start(this::sample);
        }

        private void sample() {
            try {
                while (sampling) {
                    TelemetrySample sample = new TelemetrySample(nvml.smClockMhz(device),
                            nvml.powerMilliwatts(device) / 1000.0, nvml.temperatureC(device), nvml.clockReasons(device));
                    synchronized (samples) {
                        samples.add(sample);
                    }
                    Thread.sleep(PERIOD);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        /** Ends the sampling and sums it up; fails if NVML failed while sampling. */
        public TelemetrySummary stop() {
            close();
            if (failure != null) {
                throw failure;
            }
            synchronized (samples) {
                return TelemetrySummary.of(samples, powerLimitWatts);
            }
        }

        @Override
        public void close() {
            sampling = false;
            running.remove(this);
            try {
                sampler.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        running.forEach(Recording::close);
        nvml.close();
    }
}
