package io.pgolf.gpu.parity;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Runs {@link OpCase}s on a reference backend (the CPU's float32) and on a candidate, from the same seeded inputs,
 * and compares every result under {@link ToleranceTable}.
 *
 * <p>A case runs on the reference first with its gradients (accumulators) at zero, which measures the size of the
 * operation's own contribution. When it has accumulators, they then start on both sides at random values of that
 * size (so that an operation that overwrites instead of adding fails by ~70%), and the reference runs again. The
 * candidate runs both ways too: from the random starts, and from zero-filled accumulators, which a backend may
 * keep as pending zeros that an operation overwrites instead of adding into (the CUDA backend's store path); the
 * second run's results are named "... from zero". A candidate that throws fails the case's results with its
 * message; the other cases still run.
 */
public final class BackendParity {
    private final Backend reference;
    private final Backend candidate;
    private final long seed;

    public BackendParity(Backend reference, Backend candidate, long seed) {
        if (reference.activationType() != DType.F32) {
            throw new IllegalArgumentException("the reference must compute in float32, not "
                    + reference.activationType() + " (" + reference.name() + ")");
        }
        this.reference = reference;
        this.candidate = candidate;
        this.seed = seed;
    }

    /** Every TensorOps, LayerOps and OptimizerOps case at one scale. */
    public static List<OpCase> cases(ParityScale scale) {
        List<OpCase> all = new ArrayList<>(TensorOpCases.of(scale));
        all.addAll(LayerOpCases.of(scale));
        all.addAll(OptimizerOpCases.of(scale));
        return List.copyOf(all);
    }

    /** Runs the cases in order, handing each result's check to {@code onCheck} as soon as it is known. */
    public List<ParityCheck> run(List<OpCase> cases, Consumer<ParityCheck> onCheck) {
        List<ParityCheck> checks = new ArrayList<>();
        for (OpCase c : cases) {
            for (ParityCheck check : run(c)) {
                checks.add(check);
                onCheck.accept(check);
            }
        }
        return checks;
    }

    private List<ParityCheck> run(OpCase c) {
        long caseSeed = seed * 0x9E3779B97F4A7C15L + c.id().hashCode();
        CaseInputs inputs = new CaseInputs(caseSeed, () -> referenceSide(Map.of()));
        Run contribution = runOn(referenceSide(Map.of()), c, inputs);
        Map<String, float[]> starts = accumulatorStarts(contribution, caseSeed);
        Run expected = starts.isEmpty() ? contribution : runOn(referenceSide(starts), c, inputs);
        List<ParityCheck> checks = new ArrayList<>(candidateChecks(c, expected, expected.results().keySet(), starts,
                inputs, ""));
        if (!starts.isEmpty()) {
            checks.addAll(candidateChecks(c, contribution, contribution.accumulators(), Map.of(), inputs,
                    " from zero"));
        }
        return checks;
    }

    /**
     * The candidate run from {@code starts}, its results named in {@code compared} checked against
     * {@code expected}'s, labelled with {@code suffix}.
     */
    private List<ParityCheck> candidateChecks(OpCase c, Run expected, Collection<String> compared,
                                              Map<String, float[]> starts, CaseInputs inputs, String suffix) {
        Run actual;
        try {
            actual = runOn(Side.candidate(candidate, starts), c, inputs);
        } catch (RuntimeException e) {
            return compared.stream()
                    .map(result -> ParityCheck.failed(c.scale(), c.name(), result + suffix, c.shape(), "-",
                            ToleranceTable.listed(c.op(), result).relative(), describe(e)))
                    .toList();
        }
        List<ParityCheck> checks = new ArrayList<>();
        for (String result : compared) {
            checks.add(compare(c, result, suffix, expected.results().get(result), actual));
        }
        return checks;
    }

    private ParityCheck compare(OpCase c, String result, String suffix, Side.Observed ref, Run actual) {
        Side.Observed got = actual.results().get(result);
        if (got == null) {
            return ParityCheck.failed(c.scale(), c.name(), result + suffix, c.shape(), "-", 0,
                    "the candidate's run registered no result " + result);
        }
        Precision precision = ToleranceTable.of(c.op(), result, actual.storesBfloat16(), got.dtype());
        // An exact conversion into bfloat16 is compared with the reference's value rounded as it should be.
        float[] expectedValues = precision == Precision.EXACT && got.dtype() == DType.BF16
                ? Side.roundedToBfloat16(ref.values())
                : ref.values();
        return ParityCheck.compare(c.scale(), c.name(), result + suffix, c.shape(),
                got.dtype().name().toLowerCase(Locale.ROOT),
                got.values(), expectedValues, precision.relative());
    }

    private Side referenceSide(Map<String, float[]> accumulatorStarts) {
        return Side.reference(reference, candidate.activationType(), accumulatorStarts);
    }

    private record Run(SequencedMap<String, Side.Observed> results, List<String> accumulators,
                       boolean storesBfloat16) {
    }

    private static Run runOn(Side side, OpCase c, CaseInputs inputs) {
        try (side) {
            inputs.restart();
            c.body().run(side, inputs);
            return new Run(side.collect(), List.copyOf(side.accumulators()), side.storesBfloat16());
        }
    }

    /**
     * Random starting values for each accumulator, with the root mean square of the reference's contribution to it
     * (1 where the contribution is zero), drawn from the case's seed and the accumulator's name.
     */
    private static Map<String, float[]> accumulatorStarts(Run contribution, long caseSeed) {
        Map<String, float[]> starts = new HashMap<>();
        for (String name : contribution.accumulators()) {
            float[] added = contribution.results().get(name).values();
            double squares = 0;
            for (float v : added) {
                squares += (double) v * v;
            }
            double rms = Math.sqrt(squares / Math.max(1, added.length));
            double std = rms > 0 && Double.isFinite(rms) ? rms : 1.0;
            SplittableRandom random = new SplittableRandom(caseSeed ^ name.hashCode());
            float[] start = new float[added.length];
            for (int i = 0; i < start.length; i++) {
                start[i] = (float) (random.nextGaussian() * std);
            }
            starts.put(name, start);
        }
        return starts;
    }

    private static String describe(RuntimeException e) {
        return e.getMessage() != null ? e.getClass().getSimpleName() + ": " + e.getMessage()
                : e.getClass().getSimpleName();
    }
}
