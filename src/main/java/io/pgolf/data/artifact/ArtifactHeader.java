package io.pgolf.data.artifact;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgolf.config.Compressor;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;

/**
 * What the artifact says about its payload and its model.
 *
 * @param modelBytes        bytes of the serialized model ({@link QuantizedModelBytes}) before the shuffle
 * @param uncompressedBytes bytes the payload decompresses to: the shuffled model with the shuffle's header, which
 *                          holds the stride
 * @param payloadBytes      bytes of the compressed payload
 * @param payloadSha256     SHA-256 of the compressed payload, lower-case hex
 */
public record ArtifactHeader(Compressor compressor, int modelBytes, int uncompressedBytes,
                             int payloadBytes, String payloadSha256, ArchitectureKnobs architecture) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The header as compact JSON, fields in a fixed order. */
    byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("compressor", name(compressor));
        root.put("modelBytes", modelBytes);
        root.put("uncompressedBytes", uncompressedBytes);
        root.put("payloadBytes", payloadBytes);
        root.put("payloadSha256", payloadSha256);
        ObjectNode knobs = root.putObject("architecture");
        architecture.values().forEach(knobs::put);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the artifact header as JSON", e);
        }
    }

    /**
     * Parses {@link #toJson}'s output.
     *
     * @throws IllegalArgumentException naming the missing or mistyped field, or an unknown compressor
     */
    static ArtifactHeader parse(byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(new String(json, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("header is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("header is not a JSON object");
        }
        String compressorName = text(root, "compressor");
        Compressor compressor = compressorNamed(compressorName);
        JsonNode knobs = root.get("architecture");
        if (knobs == null || !knobs.isObject()) {
            throw new IllegalArgumentException("header field 'architecture' is missing or not an object");
        }
        SequencedMap<String, String> values = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = knobs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> knob = it.next();
            if (!knob.getValue().isTextual()) {
                throw new IllegalArgumentException("header field 'architecture." + knob.getKey() + "' is not a string");
            }
            values.put(knob.getKey(), knob.getValue().asText());
        }
        return new ArtifactHeader(compressor, count(root, "modelBytes"),
                count(root, "uncompressedBytes"), count(root, "payloadBytes"), text(root, "payloadSha256"),
                new ArchitectureKnobs(values));
    }

    static String name(Compressor compressor) {
        return compressor.name().toLowerCase(Locale.ROOT);
    }

    private static Compressor compressorNamed(String name) {
        for (Compressor c : Compressor.values()) {
            if (name(c).equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown compressor '" + name + "' (this pgolf reads brotli, lzma and zstd)");
    }

    private static String text(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || !node.isTextual()) {
            throw new IllegalArgumentException("header field '" + field + "' is missing or not a string");
        }
        return node.asText();
    }

    private static int count(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || !node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < 0) {
            throw new IllegalArgumentException("header field '" + field + "' is missing or not a non-negative int");
        }
        return node.asInt();
    }
}
