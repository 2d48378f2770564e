package io.clrnn.onnx;

import io.clrnn.TestResources;
import org.junit.jupiter.api.Assumptions;

/**
 * Whether ONNX Runtime (a test dependency, 75 MB) is on the classpath. Maven's test runs always have it; the
 * one-jar test bundle (scripts/test-bundle) leaves it out, and the comparisons with it skip there, saying so.
 * Asked without touching ORT's classes, which {@link Ort} would load.
 */
final class OrtOracle {
    private static final boolean AVAILABLE = TestResources.onClasspath("ai.onnxruntime.OrtEnvironment");

    private OrtOracle() {}

    static boolean available() {
        return AVAILABLE;
    }

    static void assumeAvailable() {
        Assumptions.assumeTrue(AVAILABLE, "ONNX Runtime is not on this classpath (the test bundle leaves it out); "
                + "run the comparisons with it through Maven: mvn test -Dtest='HostOperatorsTest,OnnxVersusOrtTest'");
    }
}
