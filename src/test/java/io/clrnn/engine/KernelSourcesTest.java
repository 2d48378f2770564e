package io.clrnn.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.TestDevice;
import io.clrnn.device.ClKernel;
import io.clrnn.device.ClProgram;
import io.clrnn.device.Device;
import io.clrnn.device.KernelConstants;
import io.clrnn.model.Activation;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel file builds with no defines at all, on its own #ifndef defaults, behind only the files its header
 * says it needs: the host passes numbers and names, never code, so each file must stand on its own.
 */
class KernelSourcesTest {
    private static final Device device = TestDevice.shared();

    /** Each file, the files in front of it (as its header says), and a kernel it declares (or null). */
    static Stream<Arguments> files() {
        return Stream.of(
                Arguments.of("common.cl", List.of(), null),
                Arguments.of("cell.cl", List.of("common.cl"), null),
                Arguments.of("step.cl", List.of("common.cl", "cell.cl"), null),
                Arguments.of("block.cl", List.of("common.cl", "cell.cl", "step.cl"), null),
                Arguments.of("projection.cl", List.of("common.cl"), "project"),
                Arguments.of("state.cl", List.of(), "gather_states"),
                Arguments.of("graph.cl", List.of(), "unary"));
    }

    @ParameterizedTest(name = "{0} behind {1}")
    @MethodSource("files")
    void buildsWithItsDefaults(String file, List<String> needs, String kernel) {
        StringBuilder source = new StringBuilder();
        for (String f : needs) {
            source.append(Device.kernelSource(f)).append('\n');
        }
        build(file, source.append(Device.kernelSource(file)).toString(), kernel);
    }

    /** recurrence.cl also needs block.cl once per row count, pasted as the host does, for step.cl's default TB. */
    @Test
    void recurrenceBuildsWithItsDefaults() {
        build("recurrence.cl", KernelSources.recurrenceFiles(KernelConstants.code("step.cl", "TB")), "rnn_rows");
    }

    private static void build(String file, String source, String kernel) {
        ClProgram program = device.programFromSource(file + " with its defaults", source); // a failure has the log
        if (kernel != null) {
            try (ClKernel k = program.kernel(kernel)) {
                assertEquals(kernel, k.name());
            }
        }
    }

    /** The host passes an activation as its id in cell.cl: every function the model knows has one of its own. */
    @Test
    void everyActivationHasItsOwnIdInCellCl() {
        Set<Integer> ids = new HashSet<>();
        for (Activation.Function f : Activation.Function.values()) {
            int id = KernelConstants.code("cell.cl", "ACT_" + f.name());
            assertTrue(ids.add(id), f + " repeats id " + id);
        }
    }
}
