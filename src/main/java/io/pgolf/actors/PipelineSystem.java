package io.pgolf.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;

import java.util.Map;

/** Creates the actor systems that pgolf's jobs run in, with pgolf's dispatcher and logging settings. */
public final class PipelineSystem {
    private PipelineSystem() {
    }

    /** @param settings extra settings by path (they win over pgolf-actors.conf and reference.conf) */
    public static <T> ActorSystem<T> create(Behavior<T> guardian, String name, Map<String, Object> settings) {
        Config config = ConfigFactory.parseMap(settings)
                .withFallback(ConfigFactory.parseResources("pgolf-actors.conf"))
                .withFallback(ConfigFactory.load())
                .resolve();
        return ActorSystem.create(guardian, name, config);
    }
}
