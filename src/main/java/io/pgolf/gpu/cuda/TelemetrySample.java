package io.pgolf.gpu.cuda;

/**
 * One NVML reading: SM clock, power draw, GPU temperature and the bits of nvmlClocksEventReasons that were holding
 * the clocks down at that moment.
 */
public record TelemetrySample(int smClockMhz, double powerWatts, int temperatureC, long clockReasons) {
    /** nvmlClocksEventReasonSwPowerCap: the clocks are lowered to keep the board under its power limit. */
    public static final long POWER_CAP = 0x4L;
    /**
     * HwSlowdown, SwThermalSlowdown, HwThermalSlowdown and HwPowerBrakeSlowdown: the GPU is hot or its power supply
     * asked it to slow down.
     */
    public static final long THERMAL_OR_HARDWARE = 0x8L | 0x20L | 0x40L | 0x80L;

    public TelemetrySample {
        if (smClockMhz < 0 || !(powerWatts >= 0)) {
            throw new IllegalArgumentException("a sample needs a clock and a power >= 0, got " + smClockMhz + " MHz, "
                    + powerWatts + " W");
        }
    }

    public boolean powerCapped() {
        return (clockReasons & POWER_CAP) != 0;
    }

    public boolean thermalOrHardwareSlowdown() {
        return (clockReasons & THERMAL_OR_HARDWARE) != 0;
    }
}
