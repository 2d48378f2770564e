package io.clrnn.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.clrnn.Assertions2;
import io.clrnn.base.InvalidInputException;
import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.RnnOptions;
import io.clrnn.base.RnnOutput;
import io.clrnn.StateDict;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.TestResources;
import io.clrnn.device.ClResource;
import io.clrnn.device.Device;
import io.clrnn.format.Npy;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The scorer in Spark's local mode, as a user runs it: local[2] (two task threads sharing one module), the Kryo
 * serializer, {@link ClrnnPlugin}, 8 partitions; every row against a direct forward of the same module, and the
 * torch.save GRU fixture against PyTorch's own output. The last test stops Spark and checks that every device
 * and module the executor opened was closed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClrnnScorerTest {
    /** Scorer against a direct forward of the same sequence: the brief's bound. */
    static final double ATOL = 1e-5;
    static final RnnConfig LSTM = RnnConfig.of(CellType.LSTM, 5, 7).withLayers(2).withBidirectional(true);

    @TempDir
    static Path dir;
    SparkSession spark;
    int nativeBefore;
    Path lstmWeights;
    Device device;
    Rnn lstm;

    @BeforeAll
    void start() throws IOException {
        nativeBefore = ClResource.liveCount();
        lstmWeights = dir.resolve("lstm.safetensors");
        StateDict.save(RnnWeights.init(LSTM, 7), lstmWeights);
        spark = LocalSpark.start("ClrnnScorerTest");
        device = TestDevice.open();
        lstm = Rnn.load(device, lstmWeights, RnnOptions.defaults().batchFirst(true));
    }

    @AfterAll
    void stop() {
        if (spark != null) {
            spark.stop();
        }
        if (lstm != null) {
            lstm.close();
        }
        if (device != null) {
            device.close();
        }
    }

    /** Nested rows of 1..12 steps, lengths given for some, and bad rows among them. */
    @Test
    @Order(1)
    void lstmRowsEqualDirectForwardsInOrderWithBadRowsNull() {
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType, false)
                .add("sequence", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, true), true))
                .add("len", DataTypes.IntegerType, true);
        SplittableRandom random = new SplittableRandom(11);
        List<Row> rows = new ArrayList<>();
        List<float[][]> sequences = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        for (int id = 0; id < 400; id++) {
            int steps = 1 + random.nextInt(12);
            float[][] x = new float[steps][];
            for (int t = 0; t < steps; t++) {
                x[t] = Tensor.randn(random.nextLong(), LSTM.inputSize()).data();
            }
            Integer length = random.nextInt(3) == 0 ? 1 + random.nextInt(steps) : null;
            Object input = x;
            if (id % 50 == 7) {
                input = null;                                      // a null row
            } else if (id % 50 == 19) {
                input = new float[][] {new float[LSTM.inputSize() + 1]};   // a step of the wrong width
            } else if (id % 50 == 31) {
                input = new float[0][];                            // no steps
            } else if (id % 50 == 43) {
                length = steps + 1;                                // a length past the sequence
            }
            rows.add(RowFactory.create(id, input, length));
            sequences.add(input == x && (length == null || length <= steps) ? x : null);
            lengths.add(length);
        }
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 8), schema);
        assertEquals(8, df.rdd().getNumPartitions());

        ClrnnScorer scorer = ClrnnScorer.builder().weights(lstmWeights).lengthsCol("len").cellCol("c_n")
                .batchSize(16).device(TestDevice.SPEC).build();
        List<Row> scored = scorer.transform(df).collectAsList();

        assertEquals(400, scored.size());
        int checked = 0;
        for (int id = 0; id < scored.size(); id++) {
            Row row = scored.get(id);
            assertEquals(id, row.getInt(0), "row order");
            float[][] x = sequences.get(id);
            if (x == null) {
                assertNull(row.get(3), "row " + id + ": output");
                assertNull(row.get(4), "row " + id + ": h_n");
                assertNull(row.get(5), "row " + id + ": c_n");
                continue;
            }
            RnnOutput expected = directForward(x, lengths.get(id));
            int features = 2 * LSTM.hiddenSize();
            assertNear(expected.output().data(), flat(row.getList(3), features), "row " + id + ": output");
            assertNear(expected.hidden().data(), floats(row.getList(4)), "row " + id + ": h_n");
            assertNear(expected.cell().data(), floats(row.getList(5)), "row " + id + ": c_n");
            checked++;
        }
        assertEquals(400 - 4 * 8, checked);
        assertEquals(1, ExecutorModules.openModules(), "one module for 8 partitions on two task threads");
        assertEquals(1, ExecutorModules.openDevices());
    }

    /** A real torch.save GRU, shipped with addFile and named only; flat array<double> rows; PyTorch's numbers. */
    @Test
    @Order(2)
    void torchFileThroughSparkFilesMatchesPyTorch() throws IOException {
        Path gru = TestResources.path("torch/gru.pt");
        Tensor x = Npy.read(TestResources.path("torch/gru.x.npy"));     // (seq, batch, 3)
        Tensor out = Npy.read(TestResources.path("torch/gru.out.npy")); // (seq, batch, 4)
        Tensor hn = Npy.read(TestResources.path("torch/gru.h_n.npy"));  // (2, batch, 4)
        int seq = x.size(0), batch = x.size(1), input = x.size(2), hidden = hn.size(2), layers = hn.size(0);
        spark.sparkContext().addFile(gru.toString());

        StructType schema = new StructType().add("x", DataTypes.createArrayType(DataTypes.DoubleType, false));
        List<Row> rows = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            double[] flat = new double[seq * input];
            for (int t = 0; t < seq; t++) {
                for (int i = 0; i < input; i++) {
                    flat[t * input + i] = x.data()[(t * batch + b) * input + i];
                }
            }
            rows.add(RowFactory.create((Object) flat));
        }
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        ClrnnScorer scorer = new ClrnnScorer().setWeights("gru.pt").setInputCol("x").setSeqLen(seq)
                .setInputSize(input).setMode("gru").setDevice(TestDevice.SPEC);
        List<Row> scored = scorer.transform(df).collectAsList();

        for (int b = 0; b < batch; b++) {
            float[] expectedOut = new float[seq * hidden];
            for (int t = 0; t < seq; t++) {
                System.arraycopy(out.data(), (t * batch + b) * hidden, expectedOut, t * hidden, hidden);
            }
            float[] expectedHn = new float[layers * hidden];
            for (int l = 0; l < layers; l++) {
                System.arraycopy(hn.data(), (l * batch + b) * hidden, expectedHn, l * hidden, hidden);
            }
            Assertions2.assertClose(Tensor.of(expectedOut, seq, hidden), Tensor.of(floats(scored.get(b).getList(1)),
                    seq, hidden), "sequence " + b + " out");
            Assertions2.assertClose(Tensor.of(expectedHn, layers, hidden), Tensor.of(floats(scored.get(b).getList(2)),
                    layers, hidden), "sequence " + b + " h_n");
        }
    }

    @Test
    @Order(3)
    void failOnBadRowFailsTheJobNamingTheRow() {
        Dataset<Row> df = flatRows(List.of(new float[2 * 5], new float[7], new float[5]));
        ClrnnScorer scorer = flatScorer().setFailOnBadRow(true);
        String message = jobFailure(scorer.transform(df));
        assertTrue(message.contains("io.clrnn.base.InvalidInputException: row 1 of partition 0 (inputCol 'x'): the input "
                + "has 7 values, not a whole number of steps of input_size 5 (failOnBadRow is set)"), message);
    }

    @Test
    @Order(4)
    void missingWeightsFailTheJobWithClrnnsMessage() {
        ClrnnScorer scorer = flatScorer().setWeights(dir.resolve("nope.safetensors").toString());
        String message = jobFailure(scorer.transform(flatRows(List.of(new float[5]))));
        assertTrue(message.contains("io.clrnn.base.InvalidInputException: no such file: " + dir.resolve("nope.safetensors")),
                message);
    }

    @Test
    @Order(5)
    void mismatchedInputSizeFailsTheJobWithClrnnsMessage() {
        ClrnnScorer scorer = flatScorer().setInputSize(4);
        String message = jobFailure(scorer.transform(flatRows(List.of(new float[8]))));
        assertTrue(message.contains("io.clrnn.base.InvalidInputException: input.size(-1) must be equal to input_size. "
                + "Expected 5, got 4"), message);
    }

    @Test
    @Order(6)
    void cellStateOfAModuleWithoutOneFailsTheJob() throws IOException {
        Path gru = dir.resolve("gru.safetensors");
        StateDict.save(RnnWeights.init(RnnConfig.of(CellType.GRU, 5, 3), 1), gru);
        ClrnnScorer scorer = flatScorer().setWeights(gru.toString()).setCellCol("c_n");
        String message = jobFailure(scorer.transform(flatRows(List.of(new float[5]))));
        assertTrue(message.contains("cellCol 'c_n' asks for c_n, but GRU has no cell state"), message);
    }

    /** Mistakes the driver sees: no job runs. */
    @Test
    @Order(7)
    void schemaAndOptionMistakesFailOnTheDriver() {
        Dataset<Row> df = flatRows(List.of(new float[5]));
        assertMessage("inputCol 'sequence' is not a column; the columns are [x]",
                () -> new ClrnnScorer().setWeights("w").transform(df));
        assertMessage("output column 'x' already exists; choose another name",
                () -> flatScorer().setOutputCol("x").transform(df));
        assertMessage("lengthsCol 'x' is array<float>; lengths are int or bigint",
                () -> flatScorer().setLengthsCol("x").transform(df));
        assertMessage("outputCol, hiddenCol and cellCol are all empty: nothing to score",
                () -> flatScorer().setOutputCol("").setHiddenCol("").transform(df));
        assertMessage("unknown mode 'lsmt': choose rnn_tanh, rnn_relu, lstm or gru",
                () -> flatScorer().setMode("lsmt").transform(df));
        assertMessage("ClrnnScorer needs weights: a weights file path, or the name of a file shipped with --files",
                () -> ClrnnScorer.builder().build());
        Dataset<Row> ints = spark.createDataFrame(List.of(RowFactory.create((Object) new int[] {1})),
                new StructType().add("x", DataTypes.createArrayType(DataTypes.IntegerType)));
        assertMessage("inputCol 'x' is array<int>; ClrnnScorer reads array<float> (seq*input_size values, with "
                + "seqLen or inputSize) or array<array<float>> (seq steps of input_size values), float or double",
                () -> flatScorer().transform(ints));
    }

    /** local mode has no GPUs to assign, and asking it for some hangs its tasks: refused before any job. */
    @Test
    @Order(8)
    void sparkAssignedGpuIsRefusedInLocalMode() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> flatScorer().setDevice("resource:gpu").transform(flatRows(List.of(new float[5]))));
        assertTrue(e.getMessage().startsWith("device resource:gpu needs GPUs that a cluster manager assigns"),
                e.getMessage());
    }

    @Test
    @Order(9)
    void savedInAPipelineAndLoadedBack() throws IOException {
        ClrnnScorer scorer = flatScorer().setBatchSize(3).setFailOnBadRow(true);
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {scorer}).fit(flatRows(List.of()));
        Path saved = dir.resolve("pipeline");
        model.write().save(saved.toString());
        ClrnnScorer loaded = (ClrnnScorer) PipelineModel.load(saved.toString()).stages()[0];
        assertEquals(scorer.uid(), loaded.uid());
        assertEquals(scorer.getWeights(), loaded.getWeights());
        assertEquals(3, loaded.getBatchSize());
        assertTrue(loaded.getFailOnBadRow());
        assertEquals(5, loaded.getInputSize());
    }

    /** Runs last: spark.stop() closes, through ClrnnPlugin, every device and module the executor opened. */
    @Test
    @Order(Integer.MAX_VALUE)
    void stopClosesEveryDeviceAndModule() {
        assertTrue(ExecutorModules.openModules() > 0);
        spark.stop();
        assertEquals(0, ExecutorModules.openModules());
        assertEquals(0, ExecutorModules.openDevices());
        lstm.close();
        device.close();
        assertEquals(nativeBefore, ClResource.liveCount(), () -> "still open: " + ClResource.liveCounts());
    }

    // Helpers.

    private ClrnnScorer flatScorer() {
        return new ClrnnScorer().setWeights(lstmWeights.toString()).setInputCol("x").setInputSize(5)
                .setDevice(TestDevice.SPEC);
    }

    private Dataset<Row> flatRows(List<float[]> values) {
        List<Row> rows = values.stream().map(v -> RowFactory.create((Object) v)).toList();
        return spark.createDataFrame(rows, new StructType().add("x", DataTypes.createArrayType(DataTypes.FloatType)))
                .coalesce(1);
    }

    private RnnOutput directForward(float[][] x, Integer length) {
        int steps = x.length, input = LSTM.inputSize();
        float[] flat = new float[steps * input];
        for (int t = 0; t < steps; t++) {
            System.arraycopy(x[t], 0, flat, t * input, input);
        }
        RnnInput in = RnnInput.of(Tensor.of(flat, 1, steps, input));
        return lstm.forward(length == null ? in : in.lengths(length));
    }

    private static String jobFailure(Dataset<Row> df) {
        SparkException e = assertThrows(SparkException.class, df::collectAsList);
        return e.getMessage();
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable run) {
        InvalidInputException e = assertThrows(InvalidInputException.class, run);
        assertEquals(expected, e.getMessage());
    }

    private static void assertNear(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= ATOL)) {
                fail(what + ": element " + i + ": expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    private static float[] floats(List<Object> values) {
        assertNotNull(values);
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (Float) values.get(i);
        }
        return f;
    }

    private static float[] flat(List<Object> steps, int width) {
        assertNotNull(steps);
        float[] f = new float[steps.size() * width];
        for (int t = 0; t < steps.size(); t++) {
            @SuppressWarnings("unchecked")
            float[] step = floats(CollectionConverters.asJava((scala.collection.Seq<Object>) steps.get(t)));
            assertEquals(width, step.length);
            System.arraycopy(step, 0, f, t * width, width);
        }
        return f;
    }
}
