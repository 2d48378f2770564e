package io.clrnn.engine;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.clrnn.Assertions2;
import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.RnnState;
import io.clrnn.base.Tensor;
import io.clrnn.TestResources;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.ClBuffer;
import io.clrnn.device.ClKernel;
import io.clrnn.device.Device;
import io.clrnn.model.Activation;
import io.clrnn.model.CellOptions;
import io.clrnn.model.CellType;
import io.clrnn.model.Direction;
import io.clrnn.model.Forward;
import io.clrnn.model.ReferenceRnn;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import io.clrnn.onnx.OclgrindGraphs;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxSession;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * What {@link OclgrindTest} runs in a JVM of its own, on the Oclgrind device: every kernel the library launches,
 * each recurrence variant forced on every cell type, the projections, the chunked launches, half weights, the
 * state kernels of a stream and the operators of whole networks, on small shapes whose sizes are no multiple
 * of any vector width or tile. Each check is framed on stderr by {@link #BEGIN} and {@link #END} lines, so that
 * what Oclgrind prints in between (it writes its diagnostics to stderr) is known to belong to that check; the
 * kernels a check launches are logged there too (Device's trace log). A check's own result (the numbers against
 * the Java reference, torch's or ONNX Runtime's) is on its END line.
 *
 * <p>rnn_team is not among them: it runs on CPU devices only (its barrier spins in global memory across
 * work-groups, which must all run at once), and Oclgrind is a GPU that runs work-groups one after another.
 */
public final class OclgrindWorkload {
    static final String BEGIN = "@@oclgrind-check begin ";
    static final String END = "@@oclgrind-check end ";
    /** Between the check's name and its result on an END line. */
    static final String RESULT = " :: ";
    static final String OK = "ok";
    static final String DEVICE = "@@oclgrind-device ";
    /** A check whose kernel races on purpose: proves that the simulator's checks are on and read. */
    static final String CANARY = "canary: a racing kernel, an uninitialized value";

    /**
     * Whether checks keep what they open until the JVM exits instead of closing it. Oclgrind's uninitialized-value
     * tracking keeps its record of a released buffer's address: a new buffer handed the same address can then read
     * as uninitialized even where a kernel wrote it (seen as soon as a second engine reused a first one's
     * addresses, in any variant; never with every buffer kept). The small shapes here make keeping them cheap.
     */
    static final boolean KEEP_BUFFERS = Boolean.getBoolean("clrnn.oclgrind.keepBuffers");
    private static final List<AutoCloseable> kept = new ArrayList<>();

    private OclgrindWorkload() {}

    /** Closes {@code resource}, or keeps it open when {@link #KEEP_BUFFERS}. */
    private static void release(AutoCloseable resource) {
        if (KEEP_BUFFERS) {
            kept.add(resource);
            return;
        }
        try {
            resource.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The passes OclgrindTest runs, each in a JVM of its own with its own Oclgrind settings. */
    enum Pass {
        /** Data races and API misuse: every check, kernels compiled as for a real device. */
        RACES,
        /**
         * Values read before anything wrote them: kernels compiled unoptimised (the plugin cannot read LLVM's
         * freeze instruction), about six times slower, so one case of each cell rather than all eight.
         */
        UNINITIALIZED,
        /**
         * Data races again on a device far smaller than a usual GPU (work-groups of 64, 4 KiB of local memory):
         * what the planner chooses by itself must fit it. Forced variants are left out: forcing one past the
         * device's limits is a test's choice, not the planner's.
         */
        SMALL_DEVICE;

        String arg() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** One check, run in the passes it names. */
    record Check(String name, Set<Pass> passes, Runnable body) {
        Check(String name, Runnable body) {
            this(name, EnumSet.allOf(Pass.class), body);
        }
    }

    /** The cases the uninitialized-value pass runs every variant of: one of each cell, two-phase ones among them. */
    static final Set<String> UNINITIALIZED_CASES = Set.of("rnn tanh I8 H13 L2 bi",
            "lstm proj I6 H33 P7 L2 bi", "gru lbr0 clip I6 H33 bi");

    /** A module and the ragged batch it runs on, lengths including a 1. */
    record Case(String name, RnnConfig config, int seq, int[] lengths) {}

    private static Activation act(Activation.Function f, float alpha, float beta) {
        return new Activation(f, alpha, beta);
    }

    static final List<Case> CASES = List.of(
            new Case("rnn tanh I8 H13 L2 bi", RnnConfig.of(8, 13).withLayers(2).withBidirectional(true), 4,
                    new int[] {4, 1, 3}),
            new Case("rnn relu I5 H33 bf", RnnConfig.of(CellType.RNN_RELU, 5, 33).withBatchFirst(true), 3,
                    new int[] {3, 1}),
            new Case("lstm I8 H13 L2 bi", RnnConfig.of(CellType.LSTM, 8, 13).withLayers(2).withBidirectional(true), 4,
                    new int[] {4, 1, 3}),
            new Case("lstm I4 H100", RnnConfig.of(CellType.LSTM, 4, 100), 3, new int[] {1, 3}),
            new Case("lstm proj I6 H33 P7 L2 bi", RnnConfig.of(CellType.LSTM, 6, 33).withProjSize(7).withLayers(2)
                    .withBidirectional(true), 3, new int[] {3, 1}),
            new Case("lstm peepholes input_forget clip reverse I5 H10", RnnConfig.of(CellType.LSTM, 5, 10)
                    .withDirection(Direction.REVERSE).withCell(new CellOptions(List.of(
                            act(Activation.Function.SIGMOID, 0, 0), act(Activation.Function.SCALED_TANH, 1.2f, 0.8f),
                            act(Activation.Function.LEAKY_RELU, 0.1f, 0)), 2.0, true, true, true)), 3,
                    new int[] {3, 1}),
            new Case("gru I8 H13 L2 bi", RnnConfig.of(CellType.GRU, 8, 13).withLayers(2).withBidirectional(true), 4,
                    new int[] {4, 1, 3}),
            new Case("gru lbr0 clip I6 H33 bi", RnnConfig.of(CellType.GRU, 6, 33).withBidirectional(true)
                    .withCell(new CellOptions(List.of(act(Activation.Function.HARD_SIGMOID, 0.3f, 0.4f),
                            act(Activation.Function.SOFTSIGN, 0, 0)), 1.5, false, false, false)), 3,
                    new int[] {3, 1}));

    /** The recurrence as forced (null: the planner's choice on this device), with W_hh^T in local memory or not. */
    record Forced(KernelPlanner.Variant variant, boolean localWeights) {
        String label() {
            return variant == null ? "planner's choice" : variant.label() + (localWeights ? " local" : "");
        }
    }

    static final List<Forced> FORCED = List.of(new Forced(null, false), new Forced(KernelPlanner.Variant.ROWS, false),
            new Forced(KernelPlanner.Variant.ROWS_FUSED, false), new Forced(KernelPlanner.Variant.GROUP, false),
            new Forced(KernelPlanner.Variant.GROUP, true), new Forced(KernelPlanner.Variant.STEP, false));

    /** Tiles a CPU would run (float16 projection, float8 x 2 recurrence, 4 rows, panels), not this device's. */
    static final Tiles CPU_TILES = new Tiles(16, 5, 1, 8, 2, 4, true, false, 2, 2, false);

    /** Every check, in order; the canary first. */
    static List<Check> checks(Device device) {
        Set<Pass> races = EnumSet.of(Pass.RACES);
        List<Check> checks = new ArrayList<>();
        checks.add(new Check(CANARY, () -> canary(device)));
        for (Case c : CASES) {
            Set<Pass> forcedPasses = UNINITIALIZED_CASES.contains(c.name)
                    ? EnumSet.of(Pass.RACES, Pass.UNINITIALIZED) : races;
            for (Forced f : FORCED) {
                if (f.variant == KernelPlanner.Variant.ROWS_FUSED && KernelPlanner.twoPhase(c.config)) {
                    continue; // the fused projection serves single-phase cells only
                }
                Set<Pass> passes = forcedPasses;
                if (f.variant == null) {
                    passes = EnumSet.copyOf(forcedPasses);
                    passes.add(Pass.SMALL_DEVICE);
                }
                checks.add(new Check(c.name + ", " + f.label(), passes,
                        () -> forward(device, c, f, null, WeightsDtype.F32)));
            }
            // the CPUs' register tiles (wider vectors, panels, the projection without local memory) on this device
            checks.add(new Check(c.name + ", rnn_rows, CPU tiles", forcedPasses, () -> forward(device, c,
                    new Forced(KernelPlanner.Variant.ROWS, false), CPU_TILES, WeightsDtype.F32)));
            checks.add(new Check(c.name + ", half weights", forcedPasses, () -> forward(device, c,
                    new Forced(KernelPlanner.Variant.GROUP, true), null, WeightsDtype.F16)));
        }
        checks.add(new Check("stream of lstm I8 H13 L2, some rows sitting chunks out", () -> stream(device)));
        for (String network : List.of("sentiment_op17", "tagger_op14", "forecaster_op11", "charlm_op17",
                "events_op17", "sentiment_wide_op17")) {
            // not in the uninitialized-value pass: a graph hands a recurrent node its input and takes its outputs
            // with clEnqueueCopyBuffer where the kernels cannot use the graph's tensors in place, and Oclgrind's
            // uninitialized-value tracking does not follow runtime copies (nor fills): what a copy wrote reads as
            // written or not depending on what last lived at that address
            checks.add(new Check("network " + network, EnumSet.of(Pass.RACES, Pass.SMALL_DEVICE),
                    () -> network(device, network)));
        }
        // last: it closes its session whatever the pass, and a released buffer's address confuses the next one
        checks.add(new Check("operators the networks do not use", () -> OclgrindGraphs.run(device)));
        return checks;
    }

    /** One forward of the case as forced, whole and in 2-step launches; tiles null: the device's own. */
    private static void forward(Device device, Case c, Forced forced, Tiles tiles, WeightsDtype dtype) {
        RnnWeights weights = RnnWeights.init(c.config, 7);
        RnnWeights reference = dtype == WeightsDtype.F16 ? KernelVariantsTest.halfRounded(weights) : weights;
        Tiles t = tiles != null ? tiles : KernelPlanner.tiles(device.info(), c.config);
        RnnEngine engine = new RnnEngine(device, weights, dtype, t);
        try {
            Engines.force(engine, forced.variant, forced.variant == null ? null : forced.localWeights);
            RnnInput in = input(c);
            Forward shape = Forward.of(c.config, in);
            RnnOutput expected = ReferenceRnn.forward(reference, in);
            Assertions2.assertClose(expected, engine.forward(shape, null), Assertions2.REF_ATOL,
                    Assertions2.REF_RTOL, "");
            // the chunked launch path: a GPU's watchdog cuts a sequence into launches of a few steps
            Engines.maxStepsPerLaunch(engine, 2);
            Assertions2.assertClose(expected, engine.forward(shape, null), Assertions2.REF_ATOL,
                    Assertions2.REF_RTOL, "in launches of 2 steps");
            System.out.println(c.name + ": " + engine.recurrencePlan(shape));
        } finally {
            release(engine);
        }
    }

    private static RnnInput input(Case c) {
        RnnConfig config = c.config;
        int batch = c.lengths.length;
        int[] xShape = config.batchFirst() ? new int[] {batch, c.seq, config.inputSize()}
                : new int[] {c.seq, batch, config.inputSize()};
        int states = config.numLayers() * config.numDirections();
        RnnInput in = RnnInput.of(Tensor.randn(11, xShape)).h0(Tensor.randn(13, states, batch, config.outputSize()));
        if (config.mode().hasCellState()) {
            in = in.c0(Tensor.randn(17, states, batch, config.hiddenSize()));
        }
        return in.lengths(c.lengths);
    }


    /**
     * A stream fed in chunks where some rows sit a chunk out (length 0): their states are gathered into the
     * forward's order and scattered back (state.cl); the whole equals one forward over the concatenation.
     */
    private static void stream(Device device) {
        RnnConfig config = RnnConfig.of(CellType.LSTM, 8, 13).withLayers(2);
        RnnWeights weights = RnnWeights.init(config, 5);
        Tensor x = Tensor.randn(3, 4, 3, 8);
        Tensor h0 = Tensor.randn(4, 2, 3, 13);
        Tensor c0 = Tensor.randn(6, 2, 3, 13);
        Rnn rnn = Rnn.create(device, weights);
        // states from the host, not newState(3)'s zeros: Oclgrind's uninitialized-value pass does not see what
        // clEnqueueFillBuffer writes (nor clEnqueueCopyBuffer), only host writes and kernels' stores
        RnnState state = rnn.newState(h0, c0);
        try {
            Tensor first = rnn.forward(RnnInput.of(slice(x, 0, 2)).lengths(2, 0, 2), state);
            rnn.forward(RnnInput.of(slice(x, 0, 2)).lengths(0, 2, 0), state);
            Tensor second = rnn.forward(RnnInput.of(slice(x, 2, 4)).lengths(2, 2, 2), state);
            RnnOutput whole = ReferenceRnn.forward(weights, RnnInput.of(x).h0(h0).c0(c0));
            Assertions2.assertClose(whole.hidden(), state.hidden(), Assertions2.REF_ATOL, Assertions2.REF_RTOL, "h");
            Assertions2.assertClose(whole.cell(), state.cell(), Assertions2.REF_ATOL, Assertions2.REF_RTOL, "c");
            if (first.shape()[0] != 2 || second.shape()[0] != 2) {
                throw new AssertionError("chunk outputs of " + first + " and " + second);
            }
        } finally {
            release(state);
            release(rnn);
        }
    }

    /** Steps [from, to) of a time-major x. */
    private static Tensor slice(Tensor x, int from, int to) {
        int[] s = x.shape();
        int step = s[1] * s[2];
        float[] d = new float[(to - from) * step];
        System.arraycopy(x.data(), from * step, d, 0, d.length);
        return Tensor.of(d, to - from, s[1], s[2]);
    }

    /** A network from torch.onnx.export (test resources "networks"), its first run against torch's output. */
    private static void network(Device device, String name) {
        OnnxSession session = null;
        try {
            session = OnnxModel.load(TestResources.path("networks").resolve(name).resolve("model.onnx")).open(device);
            OclgrindGraphs.checkNetworkRun(session, name, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (session != null) {
                release(session);
            }
        }
    }

    /**
     * Two work-items write the same float with nothing between them, and a work-item branches on a private value
     * it never set: Oclgrind must report a data race and an uninitialized value (each under its own check).
     */
    private static void canary(Device device) {
        String source = "kernel void race(global float *x) { x[0] = get_global_id(0); }\n"
                + "kernel void uninitialized(global float *x) {\n"
                + "    float v[2];\n"
                + "    v[0] = 1.0f;\n"
                + "    if (v[get_global_id(0) % 2] > 0.0f) { x[0] = 2.0f; }\n"
                + "}\n";
        ClBuffer b = device.buffer(4);
        for (String name : List.of("race", "uninitialized")) {
            ClKernel k = device.programFromSource("canary", source).kernel(name);
            k.arg("x", b);
            device.run(k, new long[] {2}, new long[] {2}, null, null);
            device.finish();
            release(k);
        }
        release(b);
    }

    /**
     * {@code args[0]}: the pass ({@link Pass#arg}), whose checks it runs; further arguments keep only the checks whose
     * names contain one of them.
     */
    public static void main(String[] args) {
        ((Logger) LoggerFactory.getLogger(Device.class)).setLevel(Level.TRACE);
        Pass pass = Arrays.stream(Pass.values()).filter(p -> p.arg().equals(args[0])).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no pass " + args[0]));
        List<String> only = List.of(args).subList(1, args.length);
        PrintStream err = System.err;
        try (Device device = Device.select("oclgrind")) {
            err.println(DEVICE + device.info().describe() + ", work-groups of up to " + device.info().maxWorkGroupSize()
                    + ", " + device.info().localMemBytes() + " bytes of local memory");
            for (Check check : checks(device)) {
                if (!check.passes.contains(pass) || !only.isEmpty() && only.stream().noneMatch(check.name::contains)) {
                    continue;
                }
                err.println(BEGIN + check.name);
                err.flush();
                String result;
                try {
                    check.body.run();
                    device.finish();
                    result = OK;
                } catch (Throwable e) {
                    result = (e.getClass().getSimpleName() + ": " + e.getMessage()).replace('\n', ' ');
                }
                err.flush();
                err.println(END + check.name + RESULT + result);
                err.flush();
            }
        }
        System.exit(0);
    }
}
