package io.pgolf.model.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MomentumWarmupTest {
    @Test
    void linearFromStartToEndThenConstant() {
        MomentumWarmup warmup = new MomentumWarmup(0.92, 0.99, 1500);
        assertEquals(0.92, warmup.at(0), 1e-15);
        assertEquals(0.955, warmup.at(750), 1e-15);
        assertEquals(0.92 + 0.07 / 1500, warmup.at(1), 1e-15);
        assertEquals(0.99, warmup.at(1500), 1e-15);
        assertEquals(0.99, warmup.at(100_000), 1e-15);
    }

    @Test
    void noWarmupStepsMeansFinalMomentumAtOnce() {
        assertEquals(0.99, new MomentumWarmup(0.92, 0.99, 0).at(0));
    }
}
