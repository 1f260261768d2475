package io.pgolf.deploy;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Periodic progress lines for long jobs: fraction done, amount, rate and ETA, at most one line every
 * {@code intervalNanos} so that logs stay readable.
 */
public final class ProgressMeter {
    private final String label;
    private final String unit;
    private final PrintStream out;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long lastPrint = start;

    public ProgressMeter(String label, String unit, PrintStream out, long intervalNanos) {
        this.label = label;
        this.unit = unit;
        this.out = out;
        this.intervalNanos = intervalNanos;
    }

    /** Reports that {@code fraction} of the job is done, {@code amount} units so far; prints if a line is due. */
    public void update(double fraction, double amount) {
        long now = System.nanoTime();
        if (now - lastPrint >= intervalNanos) {
            lastPrint = now;
            out.println(line(fraction, amount, now));
        }
    }

    /** The closing line: totals and the average rate. */
    public void finish(double amount) {
        double seconds = (System.nanoTime() - start) / 1e9;
        out.println(String.format(Locale.ROOT, "%s done: %.1f %s in %.1f s (%.2f %s/s)",
                label, amount, unit, seconds, amount / Math.max(seconds, 1e-9), unit));
    }

    public double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    private String line(double fraction, double amount, long now) {
        double seconds = (now - start) / 1e9;
        double rate = amount / Math.max(seconds, 1e-9);
        String eta = fraction > 0 ? clock(seconds * (1 - fraction) / fraction) : "?";
        return String.format(Locale.ROOT, "%s %5.1f%%  %.1f %s  %.2f %s/s  elapsed %s  ETA %s",
                label, 100 * fraction, amount, unit, rate, unit, clock(seconds), eta);
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
