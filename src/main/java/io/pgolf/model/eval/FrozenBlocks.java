package io.pgolf.model.eval;

import io.pgolf.model.Gpt;
import io.pgolf.model.Parameter;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A model's parameters split for test-time training: those of the first {@code n} blocks (names holding
 * {@code blocks.b.} for b < n) stay frozen, the rest train. Both lists keep the model's order.
 */
record FrozenBlocks(List<Parameter> trained, List<Parameter> frozen) {
    FrozenBlocks {
        trained = List.copyOf(trained);
        frozen = List.copyOf(frozen);
    }

    static FrozenBlocks of(Gpt model, int blocks) {
        List<String> frozenPrefixes = IntStream.range(0, Math.min(blocks, model.layout().config().numLayers()))
                .mapToObj(b -> "blocks." + b + ".").toList();
        List<Parameter> trained = new ArrayList<>();
        List<Parameter> frozen = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            (frozenPrefixes.stream().anyMatch(p.name()::contains) ? frozen : trained).add(p);
        }
        return new FrozenBlocks(trained, frozen);
    }
}
