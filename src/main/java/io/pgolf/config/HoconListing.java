package io.pgolf.config;

import com.typesafe.config.ConfigRenderOptions;

import java.util.ArrayList;
import java.util.List;

/**
 * A resolved configuration written as HOCON that loads back to the same values, each key annotated with its
 * environment variable and origin, followed by the derived values as comments.
 */
public final class HoconListing {

    private HoconListing() {
    }

    public static String of(ResolvedConfig resolved) {
        List<String[]> rows = new ArrayList<>();
        for (Setting setting : resolved.settings()) {
            String path = setting.knob().path();
            int dot = path.lastIndexOf('.');
            String assignment = path.substring(dot + 1) + " = " + setting.value().render(ConfigRenderOptions.concise());
            rows.add(new String[]{path.substring(0, dot), assignment,
                    setting.knob().envName() + ", from " + setting.origin()});
        }
        int width = rows.stream().mapToInt(row -> row[1].length()).max().orElse(0);

        StringBuilder out = new StringBuilder();
        out.append("# pgolf configuration, resolved and validated.\n");
        out.append("# Layers, lowest first: ").append(layers(resolved.inputs())).append('\n');
        out.append(Knob.ROOT).append(" {\n");
        String section = null;
        for (String[] row : rows) {
            if (!row[0].equals(section)) {
                if (section != null) {
                    out.append("  }\n");
                }
                section = row[0];
                out.append("  ").append(section).append(" {\n");
            }
            out.append("    ").append(row[1]).append(" ".repeat(width - row[1].length()))
                    .append("  # ").append(row[2]).append('\n');
        }
        if (section != null) {
            out.append("  }\n");
        }
        out.append("}\n");
        appendDerived(out, resolved.config());
        return out.toString();
    }

    private static String layers(ConfigInputs inputs) {
        StringBuilder layers = new StringBuilder(Source.DEFAULT.label());
        inputs.profile().ifPresent(p -> layers.append(" < profile ").append(p.profileName()));
        inputs.file().ifPresent(f -> layers.append(" < file ").append(f));
        return layers.append(" < ").append(Source.ENV.label()).append(" < ").append(Source.SET.label()).toString();
    }

    private static void appendDerived(StringBuilder out, PgolfConfig config) {
        out.append("# Derived, not settable:\n");
        derived(out, "grad-accum-steps", config.distributed().gradAccumSteps(), "8 / WORLD_SIZE");
        derived(out, "train-sequences-per-micro-step", config.trainSequencesPerMicroStep(), "per rank");
        derived(out, "head-dim", config.model().headDim(), "MODEL_DIM / NUM_HEADS");
        derived(out, "kv-dim", config.model().kvDim(), "NUM_KV_HEADS x head-dim");
        derived(out, "mlp-hidden", config.model().mlpHidden(), "int(MLP_MULT x MODEL_DIM)");
        derived(out, "dataset-dir", config.data().datasetDir(), "DATA_DIR, VOCAB_SIZE");
        derived(out, "tokenizer-file", config.data().tokenizerFile(), "DATA_DIR, VOCAB_SIZE");
    }

    private static void derived(StringBuilder out, String name, Object value, String from) {
        out.append("#   ").append(name).append(" = ").append(value).append("  (").append(from).append(")\n");
    }
}
