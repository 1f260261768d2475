package io.pgolf.deploy;

import io.pgolf.protocol.JournalEntry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A replay's journal against the recording, stage by stage: within a stage, the n-th message of each type the replay
 * journaled against the n-th of that type the recording holds ({@link MessageDifference}); within one type the order
 * is the order of one sender, whatever the interleaving of several actors. Inputs are journaled again as the fresh
 * actors receive them, so they are compared too: it shows that every recorded input was fed, in order.
 */
final class JournalComparison {
    /**
     * Where a stage first differs: the recorded entry's seq (or, for a message the replay sent beyond the recording,
     * the replay journal's seq), the message type and the field.
     */
    record Difference(long seq, boolean replaySeq, String type, MessageDifference field) {
        String describe() {
            return (replaySeq ? "replay seq " : "seq ") + seq + " " + field.field() + ": recorded " + field.recorded()
                    + " vs replayed " + field.replayed();
        }
    }

    /** One stage: the messages compared (the more of the two journals' counts, per type), those equal, the first difference. */
    record Stage(String name, int compared, int equal, Optional<Difference> firstDifference) {
        boolean allEqual() {
            return compared == equal;
        }
    }

    private JournalComparison() {
    }

    /** @param stages the stages to compare, in order */
    static List<Stage> compare(RecordedRun recorded, RecordedRun replayed, List<String> stages) {
        List<Stage> result = new ArrayList<>();
        for (String stage : stages) {
            result.add(compare(stage, recorded.entries(stage), replayed.entries(stage)));
        }
        return result;
    }

    private static Stage compare(String stage, List<JournalEntry> recorded, List<JournalEntry> replayed) {
        Map<Class<?>, List<JournalEntry>> recordedByType = byType(recorded);
        Map<Class<?>, List<JournalEntry>> replayedByType = byType(replayed);
        replayedByType.keySet().forEach(type -> recordedByType.putIfAbsent(type, List.of()));
        int compared = 0;
        int equal = 0;
        List<Difference> differences = new ArrayList<>();
        for (Map.Entry<Class<?>, List<JournalEntry>> byType : recordedByType.entrySet()) {
            List<JournalEntry> ours = byType.getValue();
            List<JournalEntry> theirs = replayedByType.getOrDefault(byType.getKey(), List.of());
            String type = byType.getKey().getSimpleName();
            for (int i = 0; i < Math.max(ours.size(), theirs.size()); i++) {
                compared++;
                if (i >= theirs.size()) {
                    differences.add(new Difference(ours.get(i).seq(), false, type, new MessageDifference(type,
                            "message " + (i + 1) + " of " + ours.size(), "none (" + theirs.size() + " in all)")));
                } else if (i >= ours.size()) {
                    differences.add(new Difference(theirs.get(i).seq(), true, type, new MessageDifference(type,
                            "none (" + ours.size() + " in all)", "message " + (i + 1) + " of " + theirs.size())));
                } else {
                    Optional<MessageDifference> field = MessageDifference.between(
                            (Record) ours.get(i).message(), (Record) theirs.get(i).message());
                    if (field.isEmpty()) {
                        equal++;
                    } else {
                        differences.add(new Difference(ours.get(i).seq(), false, type, field.get()));
                    }
                }
            }
        }
        Optional<Difference> first = differences.stream()
                .min(Comparator.comparing(Difference::replaySeq).thenComparingLong(Difference::seq));
        return new Stage(stage, compared, equal, first);
    }

    private static Map<Class<?>, List<JournalEntry>> byType(List<JournalEntry> entries) {
        Map<Class<?>, List<JournalEntry>> byType = new LinkedHashMap<>();
        for (JournalEntry entry : entries) {
            byType.computeIfAbsent(entry.message().getClass(), type -> new ArrayList<>()).add(entry);
        }
        return byType;
    }
}
