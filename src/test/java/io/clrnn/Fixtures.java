package io.clrnn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.format.Npy;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The golden cases that scripts/make-fixtures.py recorded from real torch.nn.RNN. */
public final class Fixtures {
    private Fixtures() {}

    /** One recorded case: the module's options and the paths of its files. */
    public record Case(String name, RnnOptions options, Path dir, boolean hasH0) {
        public RnnWeights weights() throws IOException {
            return RnnWeights.load(dir.resolve("weights.safetensors"), options);
        }

        public Tensor input() throws IOException {
            return Npy.read(dir.resolve("input.npy"));
        }

        public Tensor h0() throws IOException {
            return hasH0 ? Npy.read(dir.resolve("h0.npy")) : null;
        }

        public Tensor output() throws IOException {
            return Npy.read(dir.resolve("output.npy"));
        }

        public Tensor hn() throws IOException {
            return Npy.read(dir.resolve("h_n.npy"));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    public static Path root() {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/manifest.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static List<Case> all() {
        try {
            JsonNode manifest = new ObjectMapper().readTree(Files.readAllBytes(root().resolve("manifest.json")));
            List<Case> cases = new ArrayList<>();
            for (JsonNode c : manifest.get("cases")) {
                RnnOptions options = RnnOptions.defaults()
                        .nonlinearity(Nonlinearity.parse(c.get("nonlinearity").asText()))
                        .batchFirst(c.get("batch_first").asBoolean());
                String name = c.get("name").asText();
                cases.add(new Case(name, options, root().resolve(name), c.get("has_h0").asBoolean()));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
