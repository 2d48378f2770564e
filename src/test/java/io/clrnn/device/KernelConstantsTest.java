package io.clrnn.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Codes read from the kernel sources, the one place they are defined. */
class KernelConstantsTest {
    @Test
    void readsADefinesIntegerAndSaysWhichOneIsMissing() {
        assertEquals(1, KernelConstants.code("cell.cl", "CELL_LSTM"));
        assertEquals(2, KernelConstants.code("recurrence.cl", "VARIANT_STEP"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> KernelConstants.code("graph.cl", "U_NOTHING"));
        assertEquals("kernels/graph.cl defines no integer U_NOTHING", e.getMessage());
    }

    /** Within a family the codes differ, or a kernel's switch would take one operator for another. */
    @Test
    void codesOfOneFamilyAreDistinct() {
        for (List<String> family : List.of(
                List.of("graph.cl", "U_RELU", "U_TANH", "U_SIGMOID", "U_LEAKY_RELU", "U_ELU", "U_GELU", "U_GELU_TANH",
                        "U_ERF", "U_SOFTPLUS", "U_CLIP", "U_NEG", "U_EXP", "U_LOG", "U_SQRT", "U_ABS", "U_RECIPROCAL",
                        "U_POW", "U_SQUARE", "U_AFFINE"),
                List.of("graph.cl", "B_ADD", "B_SUB", "B_MUL", "B_DIV", "B_POW", "B_MAX", "B_MIN"),
                List.of("graph.cl", "R_SUM", "R_MEAN", "R_MAX", "R_MIN", "R_SUM_SQUARE", "R_ARGMAX", "R_ARGMIN"),
                List.of("cell.cl", "CELL_RNN", "CELL_LSTM", "CELL_GRU"),
                List.of("recurrence.cl", "VARIANT_ROWS", "VARIANT_GROUP", "VARIANT_STEP", "VARIANT_TEAM"))) {
            Set<Integer> seen = new HashSet<>();
            for (String name : family.subList(1, family.size())) {
                int code = KernelConstants.code(family.get(0), name);
                assertEquals(true, seen.add(code), name + " repeats code " + code);
            }
        }
    }
}
