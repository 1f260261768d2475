package io.pgolf.deploy;

import io.pgolf.config.Compressor;
import io.pgolf.config.Profile;
import io.pgolf.data.artifact.CodeBytes;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * What pgolf counts as the code of a submission, for the size rule: every pgolf class that {@code pgolf eval} reaches
 * (loading an artifact, rebuilding the model, scoring the validation set) and pgolf's configuration resources,
 * compressed with the artifact's compressor (see {@link CodeBytes}). Quantization and training code is not counted:
 * a submission ships the artifact and the code that evaluates it.
 */
final class SubmissionCode {
    static final List<String> ROOTS = List.of(EvalCommand.class.getName());
    /** The defaults, the actor settings, the logger's settings and every shipped profile. */
    static final List<String> RESOURCES = Stream.concat(
            Stream.of("reference.conf", "pgolf-actors.conf", "simplelogger.properties"),
            Arrays.stream(Profile.values()).map(p -> "io/pgolf/config/profiles/" + p.profileName() + ".conf")).toList();

    private SubmissionCode() {
    }

    static CodeBytes measure(Compressor compressor) {
        return CodeBytes.measure(SubmissionCode.class.getClassLoader(), ROOTS, RESOURCES, compressor);
    }
}
