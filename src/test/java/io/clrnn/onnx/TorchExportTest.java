package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.TestResources;
import io.clrnn.device.Device;
import io.clrnn.format.Npy;
import io.clrnn.onnx.OnnxModel.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole graphs written by torch.onnx.export (scripts/make-onnx-fixtures.py): nn.RNN, LSTM and GRU with 1 to 3
 * layers, bidirectional, batch_first, with and without initial states, opsets 7 to 17, dynamic axes. Each runs
 * through the API and must give torch's own outputs, and ONNX Runtime's where ORT can run the model.
 */
class TorchExportTest {
    private static final Device device = TestDevice.shared();


    /** One exported module: its folder, the ONNX names of its inputs and outputs with their .npy files. */
    record Case(String name, Path dir, Map<String, String> inputs, Map<String, String> outputs, boolean ort) {
        Map<String, Tensor> read(Map<String, String> files) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            files.forEach((onnx, file) -> {
                try {
                    m.put(onnx, Npy.read(dir.resolve(file)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return m;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Path root() {
        return TestResources.path("onnx");
    }

    static List<Case> all() {
        try {
            JsonNode manifest = new ObjectMapper().readTree(Files.readAllBytes(root().resolve("manifest.json")));
            List<Case> cases = new ArrayList<>();
            for (JsonNode c : manifest.get("cases")) {
                Map<String, String> in = new LinkedHashMap<>();
                c.get("inputs").fields().forEachRemaining(e -> in.put(e.getKey(), e.getValue().asText()));
                Map<String, String> out = new LinkedHashMap<>();
                c.get("outputs").fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
                String name = c.get("name").asText();
                cases.add(new Case(name, root().resolve(name), in, out, c.get("ort").asBoolean()));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<Case> cases() {
        return all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTorch(Case c) throws IOException {
        OnnxModel model = OnnxModel.load(c.dir().resolve("model.onnx"));
        Map<String, Tensor> inputs = c.read(c.inputs());
        Map<String, Tensor> expected = c.read(c.outputs());
        Map<String, Tensor> actual;
        try (OnnxSession session = model.open(device)) {
            actual = session.run(inputs);
            // A second run reuses the engines and gives the same.
            assertEquals(actual.keySet(), session.run(inputs).keySet());
        }
        assertEquals(expected.keySet(), actual.keySet(), "outputs");
        for (String name : expected.keySet()) {
            assertClose(expected.get(name), actual.get(name), c.name() + " " + name + " (torch)");
        }
        if (c.ort() && OrtOracle.available()) {
            Map<String, Tensor> ort = Ort.run(Files.readAllBytes(c.dir().resolve("model.onnx")), inputs, Map.of());
            for (String name : expected.keySet()) {
                assertClose(ort.get(name), actual.get(name), c.name() + " " + name + " (ONNX Runtime)");
            }
        }
    }

    /** The inputs that become X, initial_h and initial_c and the outputs that come from Y, Y_h and Y_c: what the CLI's flags feed. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void tracesRolesThroughTheGlue(Case c) throws IOException {
        OnnxModel model = OnnxModel.load(c.dir().resolve("model.onnx"));
        Role[] in = {Role.X, Role.INITIAL_H, Role.INITIAL_C};
        Role[] out = {Role.Y, Role.Y_H, Role.Y_C};
        List<String> inputs = new ArrayList<>(c.inputs().keySet());
        for (int i = 0; i < inputs.size(); i++) {
            assertEquals(List.of(inputs.get(i)), model.inputsFor(in[i]).stream().map(OnnxModel.Port::name).toList(),
                    in[i].onnxName());
        }
        List<String> outputs = new ArrayList<>(c.outputs().keySet());
        for (int i = 0; i < outputs.size(); i++) {
            assertEquals(EnumSet.of(out[i]), model.outputs().get(i).roles(), outputs.get(i));
        }
    }
}
