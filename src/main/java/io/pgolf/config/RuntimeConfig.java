package io.pgolf.config;

/** Where the model computes: {@code pgolf.runtime}. */
public record RuntimeConfig(BackendKind pgolfBackend) {

    static RuntimeConfig read(KnobReader r) {
        return new RuntimeConfig(r.choice("runtime.pgolf-backend", BackendKind.class));
    }
}
