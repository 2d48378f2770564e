package io.clrnn.serve;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.clrnn.base.InvalidInputException;
import io.clrnn.RnnOptions;
import io.clrnn.device.Device;
import io.clrnn.format.WeightFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Open Inference Protocol (KServe v2, as Triton speaks it) over HTTP/JSON, on the JDK's own HTTP server: health,
 * server and model metadata, readiness, and inference with each model's dynamic batching; Prometheus metrics at
 * {@code /metrics}. Every error is {@code {"error": "..."}} with a 4xx or 5xx status, never a stack trace.
 */
public final class InferenceServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InferenceServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern MODEL = Pattern.compile("/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?/?");
    static final String VERSION = "1";
    /** How long a request may take to arrive in full before the server drops its connection. */
    static final int REQUEST_SECONDS = 30;
    /** How much of an oversized body is read and thrown away so that the 413 reaches the client. */
    private static final long DRAIN_LIMIT = 256L << 20;

    static {
        // Answers go out at once: with Nagle's algorithm on, a small response waits for the client's delayed ACK, and
        // every request took 40 ms more (measured: 44 ms at one client). Read when the JDK's server first starts.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        // A client that sends part of a request and stalls holds a pool thread until it is cut off: after 30 s (no
        // limit by default), so that slow or vanished clients cannot take every thread.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", String.valueOf(REQUEST_SECONDS));
        }
    }

    private final Map<String, ServedModel> models;
    private final ServerOptions options;
    private final Metrics metrics;
    private final HttpServer http;
    private final ExecutorService threads;
    private volatile boolean stopping;

    /** A model to serve: its name in URLs, its file, and for a state_dict what the file does not say. */
    public record ModelSpec(String name, Path file, RnnOptions options) {}

    /**
     * Loads every model onto {@code device} (a state_dict or an ONNX network, told apart by content) and starts
     * listening on {@code host}:{@code port} (0: any free port).
     */
    public static InferenceServer start(Device device, List<ModelSpec> specs, ServerOptions options, String host,
            int port) throws IOException {
        Metrics metrics = new Metrics();
        Map<String, ServedModel> models = new LinkedHashMap<>();
        try {
            for (ModelSpec m : specs) {
                if (models.containsKey(m.name())) {
                    throw new InvalidInputException("model name '" + m.name() + "' is given twice");
                }
                boolean onnx = Files.isRegularFile(m.file()) && WeightFile.detect(m.file()) == WeightFile.Kind.ONNX;
                ServedModel model = onnx ? new GraphModel(m.name(), device, m.file(), options, metrics)
                        : new RecurrentModel(m.name(), device, m.file(), m.options(), options, metrics);
                models.put(m.name(), model);
                metrics.model(m.name());
                log.info("loaded model {} from {} ({})", m.name(), m.file(), model.platform());
            }
            return new InferenceServer(models, options, metrics, host, port,
                    Math.max(32, 2 * options.maxBatchSize()));
        } catch (IOException | RuntimeException e) {
            models.values().forEach(ServedModel::close);
            throw e;
        }
    }

    private InferenceServer(Map<String, ServedModel> models, ServerOptions options, Metrics metrics, String host,
            int port, int threadCount) throws IOException {
        this.models = new LinkedHashMap<>(models);
        this.options = options;
        this.metrics = metrics;
        this.http = HttpServer.create(new InetSocketAddress(host, port), 1024);
        this.threads = Executors.newFixedThreadPool(threadCount, r -> {
            Thread t = new Thread(r, "clrnn-http");
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(threads);
        http.createContext("/", this::handle);
        http.start();
        log.info("serving {} on http://{}:{}", this.models.keySet(), host, port());
    }

    /** The port it listens on: the one asked for, or the one the system chose for port 0. */
    public int port() {
        return http.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            try {
                route(ex, method, path);
            } catch (BadRequest e) {
                error(ex, e.status, e.getMessage());
            } catch (RuntimeException e) {
                log.error("{} {} failed", method, path, e);
                error(ex, 500, "internal error: " + e);
            }
        }
    }

    private void route(HttpExchange ex, String method, String path) throws IOException {
        switch (path) {
            case "/v2/health/live", "/v2/health/live/" -> {
                allow(method, "GET");
                send(ex, 200, JSON.createObjectNode().put("live", true));
                return;
            }
            case "/v2/health/ready", "/v2/health/ready/" -> {
                allow(method, "GET");
                send(ex, stopping ? 503 : 200, JSON.createObjectNode().put("ready", !stopping));
                return;
            }
            case "/v2", "/v2/" -> {
                allow(method, "GET");
                ObjectNode o = JSON.createObjectNode().put("name", "clrnn").put("version", version());
                o.putArray("extensions");
                send(ex, 200, o);
                return;
            }
            case "/metrics" -> {
                allow(method, "GET");
                byte[] body = metrics.text();
                ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
                return;
            }
            default -> { }
        }
        Matcher m = MODEL.matcher(path);
        if (!m.matches()) {
            throw new BadRequest(404, "no endpoint " + path + "; see /v2 and /v2/models/{model}");
        }
        ServedModel model = models.get(m.group(1));
        if (model == null) {
            throw new BadRequest(404, "no model '" + m.group(1) + "'; this server has " + models.keySet());
        }
        if (m.group(2) != null && !m.group(2).equals(VERSION)) {
            throw new BadRequest(404, "model '" + model.name() + "' has no version '" + m.group(2) + "' (it has "
                    + VERSION + ")");
        }
        String what = m.group(3) == null ? "" : m.group(3);
        switch (what) {
            case "/ready" -> {
                allow(method, "GET");
                send(ex, stopping ? 503 : 200, JSON.createObjectNode().put("name", model.name()).put("ready", !stopping));
            }
            case "/infer" -> {
                allow(method, "POST");
                infer(ex, model);
            }
            default -> {
                allow(method, "GET");
                send(ex, 200, metadata(model));
            }
        }
    }

    private static void allow(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw new BadRequest(405, method + " is not allowed here; use " + allowed);
        }
    }

    private static ObjectNode metadata(ServedModel model) {
        ObjectNode o = JSON.createObjectNode().put("name", model.name());
        o.putArray("versions").add(VERSION);
        o.put("platform", model.platform());
        specs(o.putArray("inputs"), model.inputs());
        specs(o.putArray("outputs"), model.outputs());
        return o;
    }

    private static void specs(ArrayNode into, List<ServedModel.Spec> specs) {
        for (ServedModel.Spec s : specs) {
            ObjectNode t = into.addObject().put("name", s.name()).put("datatype", s.datatype());
            ArrayNode shape = t.putArray("shape");
            for (long d : s.shape()) {
                shape.add(d);
            }
        }
    }

    private void infer(HttpExchange ex, ServedModel model) throws IOException {
        int status = 200;
        try {
            if (stopping) {
                throw new BadRequest(503, "the server is shutting down");
            }
            JsonNode body = parse(read(ex));
            if (!body.isObject()) {
                throw new BadRequest("the request body is a JSON object with \"inputs\"");
            }
            JsonNode inputs = body.get("inputs");
            if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
                throw new BadRequest("the request has no \"inputs\" (a non-empty array)");
            }
            Map<String, Tensors.Input> byName = new LinkedHashMap<>();
            for (JsonNode t : inputs) {
                Tensors.Input in = Tensors.parse(t);
                if (byName.put(in.name(), in) != null) {
                    throw new BadRequest("input '" + in.name() + "' is given twice");
                }
            }
            List<String> wanted = requestedOutputs(body, model);
            ServedModel.Request request = new ServedModel.Request(byName, sequence(body.get("parameters")));
            Map<String, ServedModel.Output> result;
            try {
                result = model.infer(request).get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof BadRequest b ? b
                        : e.getCause() instanceof InvalidInputException i ? new BadRequest(i.getMessage())
                        : new RuntimeException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BadRequest(503, "the server is shutting down");
            }
            ObjectNode response = JSON.createObjectNode().put("model_name", model.name()).put("model_version", VERSION);
            if (body.has("id")) {
                response.set("id", body.get("id"));
            }
            ArrayNode outputs = response.putArray("outputs");
            result.forEach((name, out) -> {
                if (wanted == null || wanted.contains(name)) {
                    outputs.add(Tensors.output(name, out.shape(), out.data()));
                }
            });
            send(ex, 200, response);
        } catch (BadRequest e) {
            status = e.status;
            throw e;
        } catch (InvalidInputException e) {
            status = 400;
            throw new BadRequest(e.getMessage());
        } catch (RuntimeException e) {
            status = 500;
            throw e;
        } finally {
            metrics.request(model.name(), status);
        }
    }

    private static List<String> requestedOutputs(JsonNode body, ServedModel model) {
        JsonNode outputs = body.get("outputs");
        if (outputs == null) {
            return null;
        }
        if (!outputs.isArray()) {
            throw new BadRequest("\"outputs\" is an array of {\"name\": ...}");
        }
        List<String> names = new java.util.ArrayList<>();
        for (JsonNode o : outputs) {
            String name = Tensors.text(o, "name", "a requested output");
            if (model.outputs().stream().noneMatch(s -> s.name().equals(name))) {
                throw new BadRequest("model '" + model.name() + "' has no output '" + name + "'; its outputs are "
                        + model.outputs().stream().map(ServedModel.Spec::name).toList());
            }
            names.add(name);
        }
        return names;
    }

    /** Triton's sequence parameters, or null when the request has none. */
    private static ServedModel.Sequence sequence(JsonNode parameters) {
        if (parameters == null || !parameters.has("sequence_id")) {
            return null;
        }
        JsonNode id = parameters.get("sequence_id");
        if (!(id.isTextual() || id.isIntegralNumber()) || id.asText().isEmpty()) {
            throw new BadRequest("sequence_id is a non-empty string or a whole number");
        }
        return new ServedModel.Sequence(id.asText(), flag(parameters, "sequence_start"), flag(parameters, "sequence_end"));
    }

    private static boolean flag(JsonNode parameters, String name) {
        JsonNode v = parameters.get(name);
        if (v != null && !v.isBoolean()) {
            throw new BadRequest(name + " is true or false");
        }
        return v != null && v.asBoolean();
    }

    private byte[] read(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, options.maxBodyBytes() + 1));
            if (body.length > options.maxBodyBytes()) {
                // Read the rest (up to a bound) before answering: a connection closed on unread data is reset, and
                // the client would see that instead of the 413.
                byte[] sink = new byte[1 << 16];
                long rest = 0;
                for (int n; rest < DRAIN_LIMIT && (n = in.read(sink)) > 0; ) {
                    rest += n;
                }
                if (rest >= DRAIN_LIMIT) {
                    ex.getResponseHeaders().set("Connection", "close");
                }
                throw tooLarge();
            }
            return body;
        }
    }

    private BadRequest tooLarge() {
        return new BadRequest(413, "the request body is larger than " + options.maxBodyBytes() + " bytes "
                + "(--max-body-bytes)");
    }

    private static JsonNode parse(byte[] body) {
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || node.isMissingNode()) {
                throw new BadRequest("the request body is empty; it is a JSON object with \"inputs\"");
            }
            return node;
        } catch (JacksonException e) {
            throw new BadRequest("the request body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadRequest("the request body could not be read: " + e.getMessage());
        }
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void error(HttpExchange ex, int status, String message) {
        try {
            send(ex, status, JSON.createObjectNode().put("error", message));
        } catch (IOException e) {
            log.debug("could not answer {} to a client that went away: {}", status, e.toString());
        }
    }

    private static String version() {
        String v = InferenceServer.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /**
     * Stops: readiness turns false and new requests get 503, what is queued is answered, then the listener closes
     * (waiting up to {@code graceSeconds} for exchanges in flight) and the models free their device memory.
     */
    public void stop(int graceSeconds) {
        stopping = true;
        models.values().forEach(ServedModel::close); // drains each model's queue first
        http.stop(graceSeconds);
        threads.shutdownNow();
        log.info("stopped");
    }

    @Override
    public void close() {
        stop(1);
    }
}
