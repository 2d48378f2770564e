package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.TestResources;
import io.clrnn.device.Device;
import io.clrnn.format.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole networks as torch.onnx.export writes them (scripts/make-network-fixtures.py: an embedding or features,
 * a recurrent core, a dense head; opsets 11, 14 and 17; dynamic batch and sequence axes), run on batch and
 * sequence sizes other than the export's, against torch's own outputs within 1e-4.
 */
class NetworkExportTest {
    private static final Device device = TestDevice.shared();
    static final Path ROOT = TestResources.path("networks");

    record Case(String name, boolean tokens, int runs) {
        Path dir() {
            return ROOT.resolve(name);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(ROOT.resolve("manifest.json").toFile());
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : manifest.get("cases")) {
            cases.add(new Case(c.get("case").asText(), c.get("tokens").asBoolean(), c.get("runs").size()));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTorch(Case c) throws IOException {
        OnnxModel model = OnnxModel.load(c.dir().resolve("model.onnx"));
        try (OnnxSession session = model.open(device)) {
            for (int k = 0; k < c.runs(); k++) {
                checkRun(session, c, k);
            }
        }
    }

    /** Run {@code k} of the case's fixtures (x_k: token ids or features) against torch's y_k, within 1e-4. */
    static void checkRun(OnnxSession session, Case c, int k) throws IOException {
        Path x = c.dir().resolve("x_" + k + ".npy");
        Map<String, Tensor> out;
        if (c.tokens()) {
            Npy.IntArray ids = Npy.readIntArray(x);
            out = session.run(Map.of(), Map.of("x", IntTensor.of(ids.data(), ids.shape())));
        } else {
            out = session.run(Map.of("x", Npy.read(x)));
        }
        assertClose(Npy.read(c.dir().resolve("y_" + k + ".npy")), out.get("y"), 1e-4, 1e-4, c.name() + " run " + k);
    }
}
