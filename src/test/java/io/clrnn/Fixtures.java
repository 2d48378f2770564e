package io.clrnn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.base.RnnInput;
import io.clrnn.base.Tensor;
import io.clrnn.format.Npy;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The golden cases that scripts/make-fixtures.py recorded from real torch.nn.RNN, LSTM and GRU modules. */
public final class Fixtures {
    private Fixtures() {}

    /** One recorded case: the module's options and the paths of its files. */
    public record Case(String name, CellType mode, RnnOptions options, Path dir, boolean hasH0, boolean hasLengths) {
        public RnnWeights weights() throws IOException {
            return StateDict.load(dir.resolve("weights.safetensors"), options);
        }

        /** x, and h_0 (c_0) and lengths where the case has them. */
        public RnnInput input() throws IOException {
            RnnInput in = RnnInput.of(Npy.read(dir.resolve("input.npy")));
            if (hasH0) {
                in = in.h0(Npy.read(dir.resolve("h0.npy")));
                if (mode.hasCellState()) {
                    in = in.c0(Npy.read(dir.resolve("c0.npy")));
                }
            }
            return hasLengths ? in.lengths(Npy.readInts(dir.resolve("lengths.npy"))) : in;
        }

        public Tensor output() throws IOException {
            return Npy.read(dir.resolve("output.npy"));
        }

        public Tensor hn() throws IOException {
            return Npy.read(dir.resolve("h_n.npy"));
        }

        /** c_n of an LSTM; null otherwise. */
        public Tensor cn() throws IOException {
            return mode.hasCellState() ? Npy.read(dir.resolve("c_n.npy")) : null;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    public static Path root() {
        return TestResources.path("fixtures");
    }

    public static List<Case> all() {
        try {
            JsonNode manifest = new ObjectMapper().readTree(Files.readAllBytes(root().resolve("manifest.json")));
            List<Case> cases = new ArrayList<>();
            for (JsonNode c : manifest.get("cases")) {
                CellType mode = CellType.parse(c.get("mode").asText());
                // A state_dict cannot tell an RNN's tanh from its relu: the mode says so, as --mode would.
                RnnOptions options = RnnOptions.defaults().mode(mode).batchFirst(c.get("batch_first").asBoolean());
                String name = c.get("name").asText();
                cases.add(new Case(name, mode, options, root().resolve(name), c.get("has_h0").asBoolean(),
                        !c.path("lengths").isNull() && !c.path("lengths").isMissingNode()));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
