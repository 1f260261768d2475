package io.pgolf.config;

import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Checks that the typed records and reference.conf describe the same knobs, mechanically. */
class ConfigWiringTest {

    private static String kebab(String camelCase) {
        return camelCase.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
    }

    @Test
    void eachRecordComponentReadsTheKeyOfTheSameName() {
        ResolvedConfig resolved = PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(), List.of()));
        List<String> componentPaths = new ArrayList<>();
        for (RecordComponent section : PgolfConfig.class.getRecordComponents()) {
            for (RecordComponent knob : section.getType().getRecordComponents()) {
                componentPaths.add(kebab(section.getName()) + "." + kebab(knob.getName()));
            }
        }
        List<String> readPaths = resolved.settings().stream().map(s -> s.knob().path()).toList();
        assertEquals(componentPaths, readPaths);
    }

    @Test
    void everyKnobOfReferenceConfIsReadExactlyOnce() {
        ResolvedConfig resolved = PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(), List.of()));
        List<String> readPaths = resolved.settings().stream().map(s -> s.knob().path()).toList();
        List<String> catalogPaths = KnobCatalog.fromReference().knobs().stream().map(Knob::path).toList();
        assertEquals(catalogPaths.size(), readPaths.size());
        assertEquals(new TreeSet<>(catalogPaths), new TreeSet<>(readPaths));
    }
}
