package io.clrnn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.base.Tensor;
import io.clrnn.generate.Sampler;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Times an ONNX model of a shape with ONNX Runtime: the main of the child JVM that {@link OrtRunner} starts, and
 * the only class that touches ONNX Runtime, so that its threads never share a process with an OpenCL runtime's.
 * The input, h_0 (and c_0) and lengths are clrnn's for the same shape and seed; a timed forward is what clrnn's is:
 * copy them in, run, copy every output back.
 *
 * <pre>
 *   java -cp clrnn.jar:onnxruntime.jar io.clrnn.bench.OrtTimer --version
 *   java -cp ... io.clrnn.bench.OrtTimer MODEL.onnx "LSTM T5 B4 I8 H8" SEED THREADS[,THREADS...] \
 *       WARMUP WARMUP_SECONDS MIN_ITERATIONS MIN_SECONDS
 *   java -cp ... io.clrnn.bench.OrtTimer --graph MODEL.onnx THREADS WARMUP ... MIN_SECONDS NAME=FILE.npy...
 *   java -cp ... io.clrnn.bench.OrtTimer --generate MODEL.onnx BATCH VOCAB THREADS WARMUP ... MIN_SECONDS
 * </pre>
 *
 * prints one line of JSON: {@code {"version": ...}}, or {@code {"onnxruntime_version": ..., "measurements":
 * [...]}} with one measurement per thread count in the keys of {@link Report.Measurement#fromJson}.
 */
public final class OrtTimer {
    private OrtTimer() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Exception | LinkageError e) {
            // One line, last, for the parent's failure message (a stack trace's last line is a frame).
            e.printStackTrace();
            System.err.println("OrtTimer: " + e);
            System.exit(1);
        }
    }

    private static void run(String[] args) throws OrtException, IOException {
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "clrnn-bench");
        if (args.length == 1 && args[0].equals("--version")) {
            System.out.println(Report.JSON.createObjectNode().put("version", env.getVersion()));
            return;
        }
        if (args.length >= 1 && args[0].equals("--graph")) {
            graph(env, args);
            return;
        }
        if (args.length == 9 && args[0].equals("--generate")) {
            generate(env, args);
            return;
        }
        if (args.length != 8) {
            System.err.println("usage: OrtTimer --version | MODEL SHAPE SEED THREADS WARMUP WARMUP_SECONDS "
                    + "MIN_ITERATIONS MIN_SECONDS");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        Shape shape = Grid.parseShape(args[1]);
        long seed = Long.parseLong(args[2]);
        int[] threads = threads(args[3]);
        Benchmark.Budget budget = budget(args, 4);
        ObjectNode answer = Report.JSON.createObjectNode().put("onnxruntime_version", env.getVersion());
        ArrayNode measurements = answer.putArray("measurements");
        for (int t : threads) {
            measurements.add(time(env, model, shape, seed, t, budget));
        }
        System.out.println(answer);
    }

    private static ObjectNode time(OrtEnvironment env, Path model, Shape shape, long seed, int threads,
            Benchmark.Budget budget) throws OrtException, IOException {
        Benchmark.Case c = Benchmark.Case.of(shape, seed);
        try (OrtSession.SessionOptions options = options(threads)) {
            try (OrtSession session = env.createSession(model.toString(), options)) {
                Forward forward = new Forward(env, session, c);
                Timing timing = Benchmark.time(forward::run, budget);
                ObjectNode n = measurement(threads, timing, shape.flops());
                n.put("shape", shape.label());
                n.put("recurrence", "");
                n.putObject("device_ms");
                return n;
            }
        }
    }

    /** One whole forward: the inputs into ONNX Runtime's tensors, the run, every output back into Java arrays. */
    private record Forward(OrtEnvironment env, OrtSession session, Map<String, Tensor> floats, int[] lengths) {
        Forward(OrtEnvironment env, OrtSession session, Benchmark.Case c) throws OrtException {
            this(env, session, inputs(session, c), c.input().lengths());
        }

        /** The model's inputs by torch's names (bench_torch.py --export-onnx writes them). */
        private static Map<String, Tensor> inputs(OrtSession session, Benchmark.Case c) throws OrtException {
            Map<String, Tensor> floats = new HashMap<>();
            for (String name : session.getInputNames()) {
                switch (name) {
                    case "input" -> floats.put(name, c.input().x());
                    case "h_0" -> floats.put(name, c.input().h0());
                    case "c_0" -> floats.put(name, c.input().c0());
                    case "sequence_lens" -> {
                        if (c.input().lengths() == null) {
                            throw new IllegalArgumentException("the model takes sequence_lens, the shape is not ragged");
                        }
                    }
                    default -> throw new IllegalArgumentException("the model has an input '" + name
                            + "' that is none of input, h_0, c_0, sequence_lens");
                }
            }
            if (c.input().lengths() != null && !session.getInputNames().contains("sequence_lens")) {
                throw new IllegalArgumentException("the shape is ragged and the model takes no sequence_lens");
            }
            return floats;
        }

        void run() {
            runOnce(session, feed -> {
                for (Map.Entry<String, Tensor> e : floats.entrySet()) {
                    feed.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue().data()),
                            Arrays.stream(e.getValue().shape()).asLongStream().toArray()));
                }
                if (lengths != null) {
                    feed.put("sequence_lens", OnnxTensor.createTensor(env, IntBuffer.wrap(lengths),
                            new long[] {lengths.length}));
                }
            });
        }
    }

    /**
     * {@code --graph MODEL THREADS WARMUP WARMUP_SECONDS MIN_ITERATIONS MIN_SECONDS NAME=FILE.npy...}: a whole
     * network on given inputs (float or integer .npy, as the model declares each), for each thread count.
     */
    private static void graph(OrtEnvironment env, String[] args) throws OrtException, IOException {
        Path model = Path.of(args[1]);
        int[] threads = threads(args[2]);
        Benchmark.Budget budget = budget(args, 3);
        Map<String, Path> files = new HashMap<>();
        for (int i = 7; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            files.put(args[i].substring(0, eq), Path.of(args[i].substring(eq + 1)));
        }
        ObjectNode answer = Report.JSON.createObjectNode().put("onnxruntime_version", env.getVersion());
        ArrayNode measurements = answer.putArray("measurements");
        for (int t : threads) {
            try (OrtSession.SessionOptions options = options(t)) {
                try (OrtSession session = env.createSession(model.toString(), options)) {
                    GraphRun run = new GraphRun(env, session, files);
                    Timing timing = Benchmark.time(run::run, budget);
                    measurements.add(measurement(t, timing, 0));
                }
            }
        }
        System.out.println(answer);
    }

    /** One run of a whole network: the inputs into ONNX Runtime's tensors, the run, every output read. */
    private record GraphRun(OrtEnvironment env, OrtSession session, Map<String, Object> arrays,
            Map<String, long[]> shapes) {
        GraphRun(OrtEnvironment env, OrtSession session, Map<String, Path> files) throws OrtException, IOException {
            this(env, session, new HashMap<>(), new HashMap<>());
            for (Map.Entry<String, ai.onnxruntime.NodeInfo> e : session.getInputInfo().entrySet()) {
                Path file = files.get(e.getKey());
                if (file == null) {
                    throw new IllegalArgumentException("no file for input '" + e.getKey() + "'");
                }
                ai.onnxruntime.TensorInfo info = (ai.onnxruntime.TensorInfo) e.getValue().getInfo();
                if (info.type == ai.onnxruntime.OnnxJavaType.FLOAT) {
                    Tensor t = io.clrnn.format.Npy.read(file);
                    arrays.put(e.getKey(), t.data());
                    shapes.put(e.getKey(), Arrays.stream(t.shape()).asLongStream().toArray());
                } else {
                    io.clrnn.format.Npy.IntArray a = io.clrnn.format.Npy.readIntArray(file);
                    if (info.type == ai.onnxruntime.OnnxJavaType.INT32) {
                        arrays.put(e.getKey(), Arrays.stream(a.data()).mapToInt(v -> (int) v).toArray());
                    } else {
                        arrays.put(e.getKey(), a.data());
                    }
                    shapes.put(e.getKey(), Arrays.stream(a.shape()).asLongStream().toArray());
                }
            }
        }

        void run() {
            runOnce(session, feed -> {
                for (Map.Entry<String, Object> e : arrays.entrySet()) {
                    long[] shape = shapes.get(e.getKey());
                    Object data = e.getValue();
                    feed.put(e.getKey(), data instanceof float[] f
                            ? OnnxTensor.createTensor(env, FloatBuffer.wrap(f), shape)
                            : data instanceof int[] i ? OnnxTensor.createTensor(env, IntBuffer.wrap(i), shape)
                            : OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap((long[]) data), shape));
                }
            });
        }
    }

    /**
     * {@code --generate MODEL BATCH VOCAB THREADS WARMUP WARMUP_SECONDS MIN_ITERATIONS MIN_SECONDS}: one greedy
     * generation step (see {@link GenerationBenchmark}) of a language model whose state is graph inputs and outputs
     * (ids, h0, c0 to logits, hn, cn), for each thread count.
     */
    private static void generate(OrtEnvironment env, String[] args) throws OrtException, IOException {
        Path model = Path.of(args[1]);
        int batch = Integer.parseInt(args[2]);
        int vocab = Integer.parseInt(args[3]);
        int[] threads = threads(args[4]);
        Benchmark.Budget budget = budget(args, 5);
        ObjectNode answer = Report.JSON.createObjectNode().put("onnxruntime_version", env.getVersion());
        ArrayNode measurements = answer.putArray("measurements");
        for (int t : threads) {
            try (OrtSession.SessionOptions options = options(t);
                    OrtSession session = env.createSession(model.toString(), options);
                    GreedySteps steps = new GreedySteps(env, session, batch, vocab)) {
                measurements.add(measurement(t, Benchmark.time(steps::step, budget), 0));
            }
        }
        System.out.println(answer);
    }

    /**
     * Greedy steps the way a stateless runtime carries a recurrent state: each run's hn and cn are the next run's
     * h0 and c0. They go back in as ONNX Runtime's own tensors, never copied through Java; only the logits come out,
     * for the argmax.
     */
    private static final class GreedySteps implements AutoCloseable {
        private final OrtEnvironment env;
        private final OrtSession session;
        private final long[] ids;
        private final Sampler argmax = Sampler.greedy();
        private OrtSession.Result last; // the latest run: its logits give the next tokens, its hn and cn the state

        /** Runs every stream's prompt from zero states. */
        GreedySteps(OrtEnvironment env, OrtSession session, int batch, int vocab) throws OrtException {
            this.env = env;
            this.session = session;
            this.ids = new long[batch];
            long[] prompt = Arrays.stream(GenerationBenchmark.prompt(batch, vocab)).asLongStream().toArray();
            // h0 is (layers, batch, hidden), its batch dynamic.
            long[] state = ((ai.onnxruntime.TensorInfo) session.getInputInfo().get("h0").getInfo()).getShape();
            state[1] = batch;
            float[] zeros = new float[Math.toIntExact(state[0] * state[1] * state[2])];
            try (OnnxTensor x = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(prompt),
                    new long[] {batch, GenerationBenchmark.PROMPT_LENGTH});
                    OnnxTensor h0 = OnnxTensor.createTensor(env, FloatBuffer.wrap(zeros), state);
                    OnnxTensor c0 = OnnxTensor.createTensor(env, FloatBuffer.wrap(zeros), state)) {
                last = session.run(Map.of("ids", x, "h0", h0, "c0", c0));
            }
        }

        void step() {
            try {
                OnnxTensor logits = (OnnxTensor) last.get("logits").orElseThrow();
                long[] shape = logits.getInfo().getShape(); // (batch, steps, vocab): the last step's row counts
                int steps = Math.toIntExact(shape[1]);
                int vocab = Math.toIntExact(shape[2]);
                float[] all = new float[Math.toIntExact(shape[0] * steps * vocab)];
                logits.getFloatBuffer().get(all);
                for (int b = 0; b < ids.length; b++) {
                    ids[b] = argmax.next(all, (b * steps + steps - 1) * vocab, vocab);
                }
                try (OnnxTensor x = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(ids),
                        new long[] {ids.length, 1})) {
                    OrtSession.Result next = session.run(Map.of("ids", x,
                            "h0", (OnnxTensor) last.get("hn").orElseThrow(),
                            "c0", (OnnxTensor) last.get("cn").orElseThrow()));
                    last.close();
                    last = next;
                }
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            last.close();
        }
    }

    /** One thread count's measurement, in the keys of {@link Report.Measurement#fromJson}. */
    private static ObjectNode measurement(int threads, Timing timing, double flops) throws IOException {
        ObjectNode n = Report.JSON.createObjectNode();
        n.put("implementation", "ort-cpu-" + threads + "t");
        n.put("device", cpuName());
        n.put("threads", threads);
        Report.putTiming(n, timing, flops);
        return n;
    }

    /** Puts a run's input tensors into its feed. */
    private interface Feeder {
        void fill(Map<String, OnnxTensor> feed) throws OrtException;
    }

    /** One timed run: the inputs into ONNX Runtime's tensors, the run, every output read; the tensors closed. */
    private static void runOnce(OrtSession session, Feeder feeder) {
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            feeder.fill(feed);
            try (OrtSession.Result result = session.run(feed)) {
                for (Map.Entry<String, OnnxValue> output : result) {
                    ((OnnxTensor) output.getValue()).getFloatBuffer();
                }
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    /** ONNX Runtime at its best for {@code threads}: every graph optimisation, nodes one after the other. */
    private static OrtSession.SessionOptions options(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        // Intra-op threads include the calling one: 1 runs everything on it.
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        return options;
    }

    /** The CPU's model name, as bench_torch.py reports it. */
    private static String cpuName() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            for (String line : Files.readAllLines(cpuinfo)) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        }
        return System.getProperty("os.arch");
    }

    /** A comma-separated list of thread counts, e.g. "1,2". */
    private static int[] threads(String list) {
        return Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** WARMUP WARMUP_SECONDS MIN_ITERATIONS MIN_SECONDS, from {@code args[from]} on. */
    private static Benchmark.Budget budget(String[] args, int from) {
        return new Benchmark.Budget(Integer.parseInt(args[from]), Double.parseDouble(args[from + 1]),
                Integer.parseInt(args[from + 2]), Double.parseDouble(args[from + 3]));
    }
}
