package io.pgolf.deploy;

import io.pgolf.protocol.ArtifactRefused;
import io.pgolf.protocol.ArtifactWritten;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.QuantizationDone;
import io.pgolf.protocol.StageFinished;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainerProgress;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.ValidationReport;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The first field in which two messages of one type differ, compared exactly: component by component through nested
 * records and lists, floating-point numbers by their bits (so -0.0 is not 0.0, and NaN equals only the same NaN),
 * tokens id by id. Fields that measure wall-clock time, say where a file was written or depend on the build rather
 * than on the run are not compared ({@link #EXCLUDED}).
 */
record MessageDifference(String field, String recorded, String replayed) {
    /** By record type, the components a replay cannot reproduce and that are not compared. */
    static final Map<Class<? extends Record>, Set<String>> EXCLUDED = Map.of(
            TrainerProgress.class, Set.of("tokensPerSecond"),
            ValidationReport.class, Set.of("seconds"),
            TrainingFinished.class, Set.of("weightsFile"),
            QuantizationDone.class, Set.of("hessianSeconds", "gptqSeconds"),
            // The code bytes measure the running build's classes, not the run.
            ArtifactWritten.class, Set.of("file", "codeBytes", "serializeSeconds", "compressSeconds", "writeSeconds"),
            ArtifactRefused.class, Set.of("file", "codeBytes", "reason"),
            Evaluated.class, Set.of("seconds"),
            TttFinished.class, Set.of("seconds"),
            StageFinished.class, Set.of("seconds"),
            InputFile.class, Set.of("path"));

    private static final int SHOWN_CHARS = 80;

    /** Where {@code recorded} and {@code replayed}, two messages of one record type, first differ; empty if nowhere. */
    static Optional<MessageDifference> between(Record recorded, Record replayed) {
        return compare(recorded.getClass().getSimpleName(), recorded, replayed);
    }

    private static Optional<MessageDifference> compare(String field, Object recorded, Object replayed) {
        if (recorded == null || replayed == null || recorded.getClass() != replayed.getClass()) {
            return recorded == replayed ? Optional.empty() : differs(field, recorded, replayed);
        }
        return switch (recorded) {
            case Double d -> Double.doubleToRawLongBits(d) == Double.doubleToRawLongBits((Double) replayed)
                    ? Optional.empty() : differs(field, recorded, replayed);
            case Float f -> Float.floatToRawIntBits(f) == Float.floatToRawIntBits((Float) replayed)
                    ? Optional.empty() : differs(field, recorded, replayed);
            case Tokens tokens -> compareTokens(field, tokens, (Tokens) replayed);
            case List<?> list -> compareLists(field, list, (List<?>) replayed);
            case Record record -> compareRecords(field, record, (Record) replayed);
            default -> recorded.equals(replayed) ? Optional.empty() : differs(field, recorded, replayed);
        };
    }

    private static Optional<MessageDifference> compareRecords(String field, Record recorded, Record replayed) {
        Set<String> excluded = EXCLUDED.getOrDefault(recorded.getClass(), Set.of());
        for (RecordComponent component : recorded.getClass().getRecordComponents()) {
            if (excluded.contains(component.getName())) {
                continue;
            }
            Optional<MessageDifference> difference = compare(field + "." + component.getName(),
                    value(component, recorded), value(component, replayed));
            if (difference.isPresent()) {
                return difference;
            }
        }
        return Optional.empty();
    }

    private static Optional<MessageDifference> compareLists(String field, List<?> recorded, List<?> replayed) {
        for (int i = 0; i < Math.min(recorded.size(), replayed.size()); i++) {
            Optional<MessageDifference> difference = compare(field + "[" + i + "]", recorded.get(i), replayed.get(i));
            if (difference.isPresent()) {
                return difference;
            }
        }
        return recorded.size() == replayed.size() ? Optional.empty()
                : Optional.of(new MessageDifference(field + ".size", String.valueOf(recorded.size()),
                String.valueOf(replayed.size())));
    }

    private static Optional<MessageDifference> compareTokens(String field, Tokens recorded, Tokens replayed) {
        for (int i = 0; i < Math.min(recorded.length(), replayed.length()); i++) {
            if (recorded.get(i) != replayed.get(i)) {
                return Optional.of(new MessageDifference(field + "[" + i + "]", String.valueOf(recorded.get(i)),
                        String.valueOf(replayed.get(i))));
            }
        }
        return recorded.length() == replayed.length() ? Optional.empty()
                : Optional.of(new MessageDifference(field + ".length", String.valueOf(recorded.length()),
                String.valueOf(replayed.length())));
    }

    private static Object value(RecordComponent component, Record record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + record.getClass().getSimpleName() + "."
                    + component.getName(), e);
        }
    }

    private static Optional<MessageDifference> differs(String field, Object recorded, Object replayed) {
        return Optional.of(new MessageDifference(field, shown(recorded), shown(replayed)));
    }

    /** A value as the table shows it: floating-point numbers with their bits, long text cut. */
    static String shown(Object value) {
        return switch (value) {
            case null -> "null";
            case Double d -> String.format(Locale.ROOT, "%s (0x%016x)", d, Double.doubleToRawLongBits(d));
            case Float f -> String.format(Locale.ROOT, "%s (0x%08x)", f, Float.floatToRawIntBits(f));
            case String s -> s.length() <= SHOWN_CHARS ? "\"" + s + "\"" : "\"" + s.substring(0, SHOWN_CHARS) + "...\"";
            default -> {
                String text = value.toString();
                yield text.length() <= SHOWN_CHARS ? text : text.substring(0, SHOWN_CHARS) + "...";
            }
        };
    }
}
