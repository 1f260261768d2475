package io.pgolf.model;

/** How the reference initializes one parameter (torch's init functions, drawn here from a Java RNG). */
public sealed interface ParameterInit {
    /** N(0, std^2) elementwise: nn.init.normal_ (tok_emb). */
    record Normal(double std) implements ParameterInit {
    }

    /** nn.init.orthogonal_ with gain 1: orthonormal rows or columns, whichever are fewer. */
    record Orthogonal() implements ParameterInit {
    }

    /** nn.Linear's own default (kaiming_uniform_ with a = sqrt(5)): U(-1/sqrt(in), 1/sqrt(in)), in = columns. */
    record LinearDefault() implements ParameterInit {
    }

    /** Every element the same (zero-init projections, scales of 1, q_gain, skip weights and gates). */
    record Constant(float value) implements ParameterInit {
    }

    /** Row r filled with rowValues[r] (resid_mix: rows 1 and 0). */
    record RowConstants(float... rowValues) implements ParameterInit {
        public RowConstants {
            rowValues = rowValues.clone();
        }

        @Override
        public float[] rowValues() {
            return rowValues.clone();
        }
    }
}
