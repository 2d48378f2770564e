package io.clrnn.serve;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.RnnOptions;
import io.clrnn.StateDict;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.TestResources;
import io.clrnn.device.Device;
import io.clrnn.format.Npy;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code clrnn serve} in process, on a free loopback port, driven over HTTP as any Open Inference Protocol client
 * would: every endpoint and error status; 64 concurrent clients sending requests of mixed lengths, each answer
 * checked against the module's own forward of that request alone; sequences continued across requests; a whole
 * exported network against torch's outputs; the server still healthy after bad, oversized and vanished requests.
 */
class InferenceServerTest {
    private static final Device device = TestDevice.shared();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RnnConfig LSTM = RnnConfig.of(CellType.LSTM, 6, 10).withLayers(2);
    private static final Path NETWORKS = TestResources.path("networks");
    private static Path dir;
    private static RnnWeights weights;
    private static Rnn direct;
    private static InferenceServer server;
    private static HttpClient http;

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("clrnn-serve");
        weights = RnnWeights.init(LSTM, 5);
        StateDict.save(weights, dir.resolve("lstm.safetensors"));
        direct = Rnn.create(device, weights);
        server = InferenceServer.start(device, List.of(
                new InferenceServer.ModelSpec("lstm", dir.resolve("lstm.safetensors"), RnnOptions.defaults()),
                new InferenceServer.ModelSpec("charlm", NETWORKS.resolve("charlm_op14/model.onnx"),
                        RnnOptions.defaults())),
                new ServerOptions(64, 2_000_000, 4096, 1 << 20, 8, 60_000_000_000L), "127.0.0.1", 0);
        http = HttpClient.newBuilder().build();
    }

    @AfterAll
    static void stop() {
        server.close();
        direct.close();
    }

    record Reply(int status, JsonNode body) {}

    private static Reply get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    private static Reply post(String path, String body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private static Reply send(HttpRequest r) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
        String body = response.body();
        return new Reply(response.statusCode(), body.isEmpty() || body.startsWith("#") ? null : JSON.readTree(body));
    }

    private static String error(Reply r, int status) {
        assertEquals(status, r.status(), () -> String.valueOf(r.body()));
        assertEquals(1, r.body().size(), r.body()::toString);
        String e = r.body().get("error").asText();
        assertTrue(!e.isEmpty() && !e.contains("\n") && !e.contains("Exception"), e);
        return e;
    }

    @Test
    void healthMetadataAndReadiness() throws Exception {
        assertEquals(200, get("/v2/health/live").status());
        assertEquals(200, get("/v2/health/ready").status());
        assertEquals("clrnn", get("/v2").body().get("name").asText());
        for (String path : List.of("/v2/models/lstm", "/v2/models/lstm/versions/1")) {
            JsonNode m = get(path).body();
            assertEquals("lstm", m.get("name").asText());
            assertEquals("[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,-1,6]},{\"name\":\"lengths\","
                    + "\"datatype\":\"INT64\",\"shape\":[-1]}]", m.get("inputs").toString());
            assertEquals("[{\"name\":\"output\",\"datatype\":\"FP32\",\"shape\":[-1,-1,10]},{\"name\":\"h_n\","
                    + "\"datatype\":\"FP32\",\"shape\":[2,-1,10]},{\"name\":\"c_n\",\"datatype\":\"FP32\","
                    + "\"shape\":[2,-1,10]}]", m.get("outputs").toString());
        }
        assertEquals("[{\"name\":\"x\",\"datatype\":\"INT64\",\"shape\":[-1,-1]}]",
                get("/v2/models/charlm").body().get("inputs").toString());
        assertEquals(200, get("/v2/models/charlm/ready").status());
        assertEquals(200, get("/v2/models/lstm/versions/1/ready").status());
        assertEquals("no model 'nope'; this server has [lstm, charlm]", error(get("/v2/models/nope"), 404));
        assertEquals("model 'lstm' has no version '2' (it has 1)", error(get("/v2/models/lstm/versions/2"), 404));
        assertEquals("no endpoint /v3; see /v2 and /v2/models/{model}", error(get("/v3"), 404));
        assertEquals("GET is not allowed here; use POST", error(get("/v2/models/lstm/infer"), 405));
        String metrics = http.send(HttpRequest.newBuilder(uri("/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("# TYPE clrnn_batch_rows histogram"), metrics);
        assertTrue(metrics.contains("clrnn_open_sequences"), metrics);
    }

    /** An infer request's JSON for one input tensor, data nested or flat. */
    private static String request(String id, Tensor x, long[] lengths, boolean nested, ObjectNode parameters) {
        ObjectNode r = JSON.createObjectNode();
        if (id != null) {
            r.put("id", id);
        }
        if (parameters != null) {
            r.set("parameters", parameters);
        }
        ArrayNode inputs = r.putArray("inputs");
        ObjectNode in = inputs.addObject().put("name", "input").put("datatype", "FP32");
        ArrayNode shape = in.putArray("shape");
        for (int d : x.shape()) {
            shape.add(d);
        }
        ArrayNode data = in.putArray("data");
        int width = x.size(2);
        for (int row = 0; row < x.numel() / width; row++) {
            ArrayNode into = nested ? data.addArray() : data;
            for (int k = 0; k < width; k++) {
                into.add(x.data()[row * width + k]);
            }
        }
        if (lengths != null) {
            ObjectNode l = inputs.addObject().put("name", "lengths").put("datatype", "INT64");
            l.putArray("shape").add(lengths.length);
            ArrayNode values = l.putArray("data");
            for (long v : lengths) {
                values.add(v);
            }
        }
        return r.toString();
    }

    private static Tensor output(JsonNode response, String name) {
        for (JsonNode o : response.get("outputs")) {
            if (o.get("name").asText().equals(name)) {
                int[] shape = new int[o.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = o.get("shape").get(i).asInt();
                }
                float[] data = new float[o.get("data").size()];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) o.get("data").get(i).asDouble();
                }
                return Tensor.of(data, shape);
            }
        }
        return null;
    }

    /** 64 clients, each sending requests of random batch, length and lengths; each answer is its own forward's. */
    @Test
    void concurrentRaggedRequestsEachGetTheirOwnForward() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(64);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int c = 0; c < 64; c++) {
                int client = c;
                runs.add(clients.submit(() -> {
                    SplittableRandom random = new SplittableRandom(client);
                    int checked = 0;
                    for (int i = 0; i < 25; i++) {
                        int batch = 1 + random.nextInt(3);
                        int seq = 1 + random.nextInt(12);
                        Tensor x = Tensor.randn(client * 1000L + i, batch, seq, LSTM.inputSize());
                        long[] lengths = null;
                        int[] lens = null;
                        if (random.nextBoolean()) {
                            lengths = new long[batch];
                            lens = new int[batch];
                            for (int b = 0; b < batch; b++) {
                                lens[b] = 1 + random.nextInt(seq);
                                lengths[b] = lens[b];
                            }
                        }
                        String id = "c" + client + "-" + i;
                        Reply r = post("/v2/models/lstm/infer", request(id, x, lengths, random.nextBoolean(), null));
                        assertEquals(200, r.status(), () -> r.body().toString());
                        assertEquals(id, r.body().get("id").asText());
                        RnnOutput expected = direct.forward(RnnInput.of(transpose(x)).lengths(lens));
                        assertClose(transpose(expected.output()), output(r.body(), "output"), 1e-5, 0, id);
                        assertClose(expected.hidden(), output(r.body(), "h_n"), 1e-5, 0, id);
                        assertClose(expected.cell(), output(r.body(), "c_n"), 1e-5, 0, id);
                        checked++;
                    }
                    return checked;
                }));
            }
            int total = 0;
            for (Future<Integer> f : runs) {
                total += f.get();
            }
            assertEquals(64 * 25, total);
        } finally {
            clients.shutdownNow();
        }
        String metrics = http.send(HttpRequest.newBuilder(uri("/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("clrnn_requests_total{model=\"lstm\",status=\"200\"}"), metrics);
    }

    /** (batch, seq, ·) to (seq, batch, ·) and back: the direct module is time-major. */
    private static Tensor transpose(Tensor x) {
        int a = x.size(0);
        int b = x.size(1);
        int w = x.size(2);
        float[] out = new float[x.numel()];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(x.data(), (i * b + j) * w, out, (j * a + i) * w, w);
            }
        }
        return Tensor.of(out, b, a, w);
    }

    private static ObjectNode sequence(String id, boolean start, boolean end) {
        ObjectNode p = JSON.createObjectNode().put("sequence_id", id);
        if (start) {
            p.put("sequence_start", true);
        }
        if (end) {
            p.put("sequence_end", true);
        }
        return p;
    }

    /** Sequences fed over several requests, concurrently, give what one request with each whole sequence gives. */
    @Test
    void sequencesContinueAcrossRequests() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int s = 0; s < 6; s++) {
                int seqNo = s;
                runs.add(clients.submit(() -> {
                    Tensor whole = Tensor.randn(77 + seqNo, 1, 9, LSTM.inputSize());
                    Reply once = post("/v2/models/lstm/infer", request(null, whole, null, false, null));
                    int[] cuts = {0, 2, 3, 7, 9};
                    Tensor last = null;
                    for (int k = 0; k + 1 < cuts.length; k++) {
                        Tensor part = steps(whole, cuts[k], cuts[k + 1]);
                        Reply r = post("/v2/models/lstm/infer", request(null, part, null, false,
                                sequence("s" + seqNo, k == 0, k + 2 == cuts.length)));
                        assertEquals(200, r.status(), () -> r.body().toString());
                        last = output(r.body(), "h_n");
                        Tensor out = output(r.body(), "output");
                        assertClose(steps(output(once.body(), "output"), cuts[k], cuts[k + 1]), out, 1e-5, 0,
                                "sequence " + seqNo + " part " + k);
                    }
                    assertClose(output(once.body(), "h_n"), last, 1e-5, 0, "sequence " + seqNo + " h_n");
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
        } finally {
            clients.shutdownNow();
        }
        Tensor x = Tensor.randn(3, 1, 2, LSTM.inputSize());
        assertEquals("sequence s0 is unknown: start it with sequence_start", error(post("/v2/models/lstm/infer",
                request(null, x, null, false, sequence("s0", false, false))), 400));
        assertEquals("sequence never is unknown: start it with sequence_start", error(post("/v2/models/lstm/infer",
                request(null, x, null, false, sequence("never", false, false))), 400));
        assertTrue(error(post("/v2/models/lstm/infer", request(null, Tensor.randn(3, 2, 2, LSTM.inputSize()), null,
                false, sequence("two", true, false))), 400).startsWith("a request of sequence two holds one sequence"));
    }

    private static Tensor steps(Tensor x, int from, int to) {
        int w = x.size(2);
        return Tensor.of(java.util.Arrays.copyOfRange(x.data(), from * w, to * w), 1, to - from, w);
    }

    /** The char LM exported by torch: the server's answer is torch's, whole and as a sequence of requests. */
    @Test
    void aWholeNetworkGivesTorchsAnswer() throws Exception {
        Npy.IntArray ids = Npy.readIntArray(NETWORKS.resolve("charlm_op14/x_0.npy"));
        Tensor expected = Npy.read(NETWORKS.resolve("charlm_op14/y_0.npy"));
        Reply r = post("/v2/models/charlm/infer", ids(ids.data(), ids.shape(), null));
        assertEquals(200, r.status(), () -> r.body().toString());
        assertClose(expected, output(r.body(), "y"), 1e-4, 1e-4, "charlm");
        // time-major (seq, batch): the same ids a step at a time, as one sequence of requests
        int seq = ids.shape()[0];
        int batch = ids.shape()[1];
        float[] steps = new float[expected.numel()];
        int width = expected.size(2);
        for (int t = 0; t < seq; t++) {
            long[] step = java.util.Arrays.copyOfRange(ids.data(), t * batch, (t + 1) * batch);
            Reply s = post("/v2/models/charlm/infer", ids(step, new int[] {1, batch},
                    sequence("lm", t == 0, t == seq - 1)));
            assertEquals(200, s.status(), () -> s.body().toString());
            System.arraycopy(output(s.body(), "y").data(), 0, steps, t * batch * width, batch * width);
        }
        assertClose(expected, Tensor.of(steps, expected.shape()), 1e-4, 1e-4, "charlm a step per request");
    }

    private static String ids(long[] data, int[] shape, ObjectNode parameters) {
        ObjectNode r = JSON.createObjectNode();
        if (parameters != null) {
            r.set("parameters", parameters);
        }
        ObjectNode in = r.putArray("inputs").addObject().put("name", "x").put("datatype", "INT64");
        ArrayNode s = in.putArray("shape");
        for (int d : shape) {
            s.add(d);
        }
        ArrayNode values = in.putArray("data");
        for (long v : data) {
            values.add(v);
        }
        return r.toString();
    }

    /**
     * A client that sends half a request and stalls is served no further and cut off once the request-time limit
     * passes (3 s in the tests, sun.net.httpserver.maxReqTime), while other clients are served meanwhile.
     */
    @Test
    void aStalledClientIsCutOffAndOthersAreServedMeanwhile() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v2/models/lstm/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"in")
                    .getBytes());
            out.flush();
            Reply ok = post("/v2/models/lstm/infer", request("meanwhile", Tensor.randn(2, 1, 2, 6), null, false, null));
            assertEquals(200, ok.status());
            long start = System.nanoTime();
            int read;
            try {
                read = s.getInputStream().read();
            } catch (java.net.SocketException e) {
                read = -1; // reset: cut off as well
            }
            assertEquals(-1, read, "the stalled connection is closed, not answered");
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 14, "cut off after " + seconds + " s");
        }
        assertEquals(200, get("/v2/health/live").status());
    }

    @Test
    void badRequestsGetOneLineAndTheServerGoesOn() throws Exception {
        String infer = "/v2/models/lstm/infer";
        assertTrue(error(post(infer, "{not json"), 400).startsWith("the request body is not JSON"));
        assertEquals("the request body is empty; it is a JSON object with \"inputs\"", error(post(infer, ""), 400));
        assertEquals("the request has no \"inputs\" (a non-empty array)", error(post(infer, "{}"), 400));
        assertEquals("input 'input' has 3 values; its shape [1, 1, 6] holds 6", error(post(infer,
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,6],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}"), 400));
        assertEquals("input 'input' of model 'lstm' is FP32 [1, 1, 5]; it takes FP32 (batch, seq, 6)", error(post(infer,
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,5],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5]}]}"), 400));
        assertEquals("input 'input' holds \"a\" at element 0; its datatype takes numbers", error(post(infer,
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[\"a\"]}]}"), 400));
        assertEquals("input 'x' has datatype BYTES; clrnn takes FP16, FP32, FP64 and the INT and UINT types",
                error(post(infer, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[1]}]}"),
                        400));
        assertEquals("model 'lstm' has no input 'h0'; its inputs are input and lengths", error(post(infer,
                "{\"inputs\":[{\"name\":\"h0\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}"), 400));
        Tensor x = Tensor.randn(1, 1, 2, 6);
        assertEquals("model 'lstm' has no output 'y'; its outputs are [output, h_n, c_n]", error(post(infer,
                request(null, x, null, false, null).replace("\"inputs\"", "\"outputs\":[{\"name\":\"y\"}],\"inputs\"")),
                400));
        assertEquals("input 'lengths' holds 3; each length is 1..2", error(post(infer,
                request(null, x, new long[] {3}, false, null)), 400));
        String badId = error(post("/v2/models/charlm/infer", ids(new long[] {1, 500}, new int[] {1, 2}, null)), 400);
        assertTrue(badId.contains("index 500 is out of range"), badId);
        String big = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[" + "1,".repeat(600_000)
                + "1]}]}";
        assertEquals("the request body is larger than 1048576 bytes (--max-body-bytes)", error(post(infer, big), 413));
        // a client that sends half a request and goes away
        try (Socket s = new Socket("127.0.0.1", server.port()); OutputStream out = s.getOutputStream()) {
            out.write(("POST " + infer + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inp").getBytes());
            out.flush();
        }
        Reply ok = post(infer, request("after", x, null, false, null));
        assertEquals(200, ok.status());
        assertEquals("after", ok.body().get("id").asText());
        assertEquals(200, get("/v2/health/ready").status());
    }
}
