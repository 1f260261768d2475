package io.pgolf.deploy;

import io.pgolf.actors.RunPipeline.Stage;

import java.util.List;

/** The stages of a run, in the order they run; closing it closes the models they loaded. */
interface StagedRun extends AutoCloseable {
    List<Stage<?>> all();
}
