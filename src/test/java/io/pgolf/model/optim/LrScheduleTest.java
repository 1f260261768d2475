package io.pgolf.model.optim;

import io.pgolf.config.PgolfConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LrScheduleTest {
    /** The record's schedule: 600 s less 12 s of GPTQ reserve, warmdown over the last 2/3, floor 0. */
    private final LrSchedule wallClock = new LrSchedule(20_000, 0.667, 0.0, 600.0, 12.0);

    @Test
    void defaultConfigurationGivesTheRecordSchedule() {
        LrSchedule fromConfig = LrSchedule.of(PgolfConfig.load(Optional.empty(), Map.of(), List.of()));
        assertEquals(wallClock, fromConfig);
    }

    @Test
    void wallClockFractionIsOfTheBudgetLessTheGptqReserve() {
        assertEquals(588.0, wallClock.trainingBudgetSeconds());
        assertEquals(0.5, wallClock.trainingFraction(123, 294.0), 1e-12);
        assertEquals(1.0, wallClock.trainingFraction(0, 588.0), 1e-12);
        assertFalse(wallClock.budgetSpent(587.9));
        assertTrue(wallClock.budgetSpent(588.0));
    }

    @Test
    void stepFractionWithoutWallClock() {
        LrSchedule steps = new LrSchedule(200, 0.25, 0.0, 0.0, 12.0);
        assertEquals(0.0, steps.trainingFraction(0, 1e6));
        assertEquals(0.5, steps.trainingFraction(100, 0.0));
        assertFalse(steps.budgetSpent(1e9));
        assertThrows(IllegalStateException.class, steps::trainingBudgetSeconds);
        // Step 175 of 200 is fraction 0.875: half-way through the warmdown that starts at 0.75.
        assertEquals(0.5, steps.multiplier(steps.trainingFraction(175, 0.0)), 1e-12);
    }

    @Test
    void multiplierIsOneThenLinearToZero() {
        assertEquals(1.0, wallClock.multiplier(0.0));
        assertEquals(1.0, wallClock.multiplier(0.3));
        // Warmdown starts at 1 - 0.667 = 0.333: the multiplier there is exactly 1 again.
        assertEquals(1.0, wallClock.multiplier(0.333), 1e-12);
        assertEquals(0.5, wallClock.multiplier(1 - 0.667 / 2), 1e-12);
        assertEquals(0.1 / 0.667, wallClock.multiplier(0.9), 1e-12);
        assertEquals(0.0, wallClock.multiplier(1.0));
        assertEquals(0.0, wallClock.multiplier(1.2), "past the budget the floor holds");
    }

    @Test
    void minLrIsAFloorOnTheMultiplier() {
        LrSchedule floored = new LrSchedule(100, 0.5, 0.1, 0.0, 0.0);
        assertEquals(0.4, floored.multiplier(0.8), 1e-12);
        assertEquals(0.1, floored.multiplier(0.99), 1e-12);
        assertEquals(0.1, floored.multiplier(1.0), 1e-12);
    }

    @Test
    void noWarmdownKeepsTheMultiplierAtOne() {
        LrSchedule flat = new LrSchedule(100, 0.0, 0.0, 0.0, 0.0);
        assertEquals(1.0, flat.multiplier(0.99));
        assertEquals(1.0, flat.multiplier(1.0));
    }
}
