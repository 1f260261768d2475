package io.pgolf.config;

import com.typesafe.config.ConfigValue;

/**
 * A knob's resolved value.
 *
 * @param value  the typed value as HOCON (an env string "1" for a flag becomes {@code true})
 * @param source the layer it came from
 * @param origin where exactly: {@code default}, {@code env}, {@code --set}, {@code file x.conf:3} or
 *               {@code profile record:5}
 */
public record Setting(Knob knob, ConfigValue value, Source source, String origin) {
}
