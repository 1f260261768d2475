package io.pgolf.gpu.cuda;

import java.util.List;
import java.util.Locale;

/**
 * What a GPU ran at over a recording: the SM clock (mean, lowest, highest), the mean power against the enforced
 * limit, the hottest temperature, and the shares of samples whose clocks the power cap, or heat and hardware
 * slowdowns, were holding down.
 */
public record TelemetrySummary(int samples, double meanSmClockMhz, int minSmClockMhz, int maxSmClockMhz,
                               double meanPowerWatts, double powerLimitWatts, int maxTemperatureC,
                               double powerCappedShare, double thermalOrHardwareShare) {

    /** The summary of {@code samples}, taken under an enforced limit of {@code powerLimitWatts}. */
    public static TelemetrySummary of(List<TelemetrySample> samples, double powerLimitWatts) {
        if (samples.isEmpty()) {
            return new TelemetrySummary(0, Double.NaN, 0, 0, Double.NaN, powerLimitWatts, 0, Double.NaN, Double.NaN);
        }
        double clock = 0;
        double power = 0;
        int minClock = Integer.MAX_VALUE;
        int maxClock = 0;
        int maxTemperature = Integer.MIN_VALUE;
        int capped = 0;
        int slowed = 0;
        for (TelemetrySample s : samples) {
            clock += s.smClockMhz();
            power += s.powerWatts();
            minClock = Math.min(minClock, s.smClockMhz());
            maxClock = Math.max(maxClock, s.smClockMhz());
            maxTemperature = Math.max(maxTemperature, s.temperatureC());
            capped += s.powerCapped() ? 1 : 0;
            slowed += s.thermalOrHardwareSlowdown() ? 1 : 0;
        }
        int n = samples.size();
        return new TelemetrySummary(n, clock / n, minClock, maxClock, power / n, powerLimitWatts, maxTemperature,
                (double) capped / n, (double) slowed / n);
    }

    /** One line for a benchmark's report. */
    public String describe() {
        if (samples == 0) {
            return "no NVML samples (the work took less than one sampling period)";
        }
        return String.format(Locale.ROOT, "SM clock %,.0f MHz mean (%,d-%,d), power %.0f W mean of a %.0f W limit,"
                        + " held down by the power cap in %.0f%% and by heat or hardware in %.0f%% of %d samples,"
                        + " up to %d C", meanSmClockMhz, minSmClockMhz, maxSmClockMhz, meanPowerWatts, powerLimitWatts,
                100 * powerCappedShare, 100 * thermalOrHardwareShare, samples, maxTemperatureC);
    }
}
