package io.clrnn.cli.spark;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.clrnn.base.ClrnnException;
import io.clrnn.base.InvalidInputException;
import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.RnnOptions;
import io.clrnn.base.RnnOutput;
import io.clrnn.StateDict;
import io.clrnn.base.Tensor;
import io.clrnn.cli.Main;
import io.clrnn.device.Device;
import io.clrnn.device.DeviceSpec;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import io.clrnn.spark.ClrnnScorer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.SparkFiles;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scripts/spark-score}: scores a Parquet file of sequences with {@link ClrnnScorer} in Spark's local mode;
 * {@code --example} makes its own model and data, scores them and checks a sample against a direct forward;
 * {@code --bench} compares Spark's throughput with bare clrnn on the same sequences. A mistake prints one
 * {@code error: ...} line and exits 2; a device or runtime failure exits 1.
 */
@Command(name = "spark-score", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Scores a Parquet file of sequences with an RNN, LSTM or GRU through Spark (local mode).",
            "Writes the input's other columns plus output, h_n and (LSTM) c_n to a new Parquet file."})
public final class SparkScore implements Callable<Integer> {
    @ArgGroup(exclusive = true)
    Task task = new Task();

    static final class Task {
        @Option(names = "--example", description = "Make a random LSTM and a Parquet file of sequences, score them, "
                + "check a sample of rows against a direct forward, print rows/s.")
        boolean example;
        @Option(names = "--bench", description = "Rows/s of bare clrnn and of the Spark path on the same sequences "
                + "(LSTM(32, 64), seq 20, batches of 256 unless told).")
        boolean bench;
    }

    @Option(names = "--weights", paramLabel = "W", description = "The module's weights: safetensors or torch.save.")
    Path weights;
    @Option(names = "--input", paramLabel = "IN.parquet") String input;
    @Option(names = "--output", paramLabel = "OUT.parquet") String output;
    @Option(names = "--input-col", paramLabel = "C", defaultValue = "sequence",
            description = "array<float> of seq*input_size values, or array<array<float>> (default ${DEFAULT-VALUE}).")
    String inputCol;
    @Option(names = "--lengths-col", paramLabel = "L", description = "An int column of each sequence's length.")
    String lengthsCol;
    @Option(names = "--seq-len", paramLabel = "T", defaultValue = "0",
            description = "Every row's sequence length (default: each row's own).")
    int seqLen;
    @Option(names = "--input-size", paramLabel = "I", defaultValue = "0",
            description = "Values per step of a flat input (default: the module's input_size).")
    int inputSize;
    @Option(names = "--prefix", paramLabel = "P", description = "The module's key prefix in a whole model's state_dict.")
    String prefix;
    @Option(names = "--mode", paramLabel = "MODE", description = "rnn_tanh, rnn_relu, lstm or gru (default: inferred).")
    String mode;
    @Option(names = "--outputs", paramLabel = "LIST", split = ",", description = "Which of output, h_n, c_n to write "
            + "(default: all the module has). Writing whole output sequences to Parquet costs far more than scoring them.")
    List<String> outputs;
    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "256", description = "Rows per forward (default ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--device", paramLabel = "SPEC", defaultValue = "${env:" + DeviceSpec.ENV + ":-auto}",
            description = "auto (default), cpu, gpu, an index from 'clrnn devices', or part of a device name.")
    String device;
    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else "
            + "local[*]).")
    String master;
    @Option(names = "--keep-input", description = "Write the input column too (default: every other input column "
            + "and the outputs).")
    boolean keepInput;
    @Option(names = "--overwrite", description = "Replace OUT.parquet if it exists.") boolean overwrite;
    @Option(names = "--fail-on-bad-row", description = "Fail on a null or malformed row instead of giving it null outputs.")
    boolean failOnBadRow;
    @Option(names = "--rows", paramLabel = "N", description = "--example: rows to make (default 20000); "
            + "--bench: sequences (default 200000).")
    Integer rows;
    @Option(names = "--rounds", paramLabel = "R", defaultValue = "3", description = "--bench: timed rounds (default ${DEFAULT-VALUE}).")
    int rounds;
    @Option(names = "--workdir", paramLabel = "DIR", description = "--example, --bench: where to write (default: a new temporary folder).")
    Path workdir;

    @Option(names = "--verbose", description = "Keep Spark's own reports of failed tasks, with stack traces.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        if (!List.of(args).contains("--verbose")) {
            quietSpark();
        }
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new SparkScore());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("error: " + e.getMessage());
            err.println("(see 'spark-score --help')");
            return Main.EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable cause = clrnnCause(e);
            if (cause instanceof ClrnnException) {
                err.println("error: " + cause.getMessage());
                return cause instanceof InvalidInputException ? Main.EXIT_USAGE : Main.EXIT_RUNTIME;
            }
            if (e instanceof AnalysisException || e instanceof NoSuchFileException) {
                err.println("error: " + firstLine(e instanceof NoSuchFileException ? "no such file: " + e.getMessage()
                        : e.getMessage()));
                return Main.EXIT_USAGE;
            }
            e.printStackTrace(err);
            return Main.EXIT_RUNTIME;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (task.bench) {
            return bench(err);
        }
        if (task.example) {
            return example(err);
        }
        if (weights == null || input == null || output == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give --weights, --input and --output (or --example, or --bench)");
        }
        SparkSession spark = LocalSession.start(master);
        try {
            Scored scored = score(spark, weights, input, output, err);
            err.printf(Locale.ROOT, "spark-score: %,d rows in %.1f s, %,.0f rows/s -> %s%s%n", scored.rows(),
                    scored.seconds(), scored.rows() / scored.seconds(), output,
                    scored.withoutOutput() == 0 ? "" : String.format(Locale.ROOT,
                            " (%,d null or malformed rows got null outputs)", scored.withoutOutput()));
            return Main.EXIT_OK;
        } finally {
            spark.stop();
        }
    }

    record Scored(long rows, double seconds, long withoutOutput) {}

    /** Scores {@code in} into {@code out} with this command's settings; an LSTM's c_n comes along. */
    Scored score(SparkSession spark, Path weightsPath, String in, String out, PrintWriter err) throws IOException {
        RnnOptions options = RnnOptions.defaults().prefix(prefix).mode(mode == null ? null : CellType.parse(mode));
        RnnConfig config = StateDict.load(onDriver(weightsPath), options).config();
        err.println("spark-score: " + config + " from " + weightsPath + " on device '" + device + "', Spark "
                + spark.sparkContext().master());
        List<String> wanted = outputs != null ? outputs
                : config.mode().hasCellState() ? List.of("output", "h_n", "c_n") : List.of("output", "h_n");
        for (String o : wanted) {
            if (!List.of("output", "h_n", "c_n").contains(o)) {
                throw new InvalidInputException("--outputs: unknown output '" + o + "'; choose from output, h_n, c_n");
            }
        }
        ClrnnScorer scorer = ClrnnScorer.builder().weights(weightsPath).options(options)
                .inputCol(inputCol).lengthsCol(lengthsCol == null ? "" : lengthsCol).seqLen(seqLen)
                .inputSize(inputSize).outputCol(column(wanted, "output")).hiddenCol(column(wanted, "h_n"))
                .cellCol(column(wanted, "c_n")).batchSize(batchSize).device(device).failOnBadRow(failOnBadRow)
                .build();
        Dataset<Row> scored = scorer.transform(spark.read().parquet(in));
        if (!keepInput) {
            scored = scored.drop(inputCol);
        }
        Progress progress = Progress.attach(spark, err);
        long start = System.nanoTime();
        try {
            scored.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
                    .option("parquet.enable.dictionary", "false").parquet(out);
        } finally {
            progress.detach(spark);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long withoutOutput = spark.read().parquet(out).filter(functions.col(wanted.get(0)).isNull()).count();
        return new Scored(progress.rows(), seconds, withoutOutput);
    }

    /** The weights as the driver reads them: the path, else the file of that name shipped with --files. */
    private static Path onDriver(Path weights) {
        if (!Files.exists(weights) && weights.getFileName() != null) {
            Path shipped = Path.of(SparkFiles.get(weights.getFileName().toString()));
            if (Files.exists(shipped)) {
                return shipped;
            }
        }
        return weights;
    }

    private static String column(List<String> wanted, String output) {
        return wanted.contains(output) ? output : "";
    }

    /** A random LSTM(32, 64) and rows of 20 steps (some shorter by their lengths, a few null), scored and checked. */
    private int example(PrintWriter err) throws Exception {
        int n = rows == null ? 20_000 : rows;
        Path dir = workdir != null ? Files.createDirectories(workdir) : Files.createTempDirectory("clrnn-spark-example");
        RnnConfig config = RnnConfig.of(CellType.LSTM, 32, 64);
        ExampleData data = new ExampleData(20, config.inputSize(), true, true);
        Path model = dir.resolve("lstm.safetensors");
        StateDict.save(RnnWeights.init(config, 1), model);
        String in = dir.resolve("sequences.parquet").toString();
        String out = dir.resolve("scored.parquet").toString();
        inputCol = "sequence";
        lengthsCol = "len";
        seqLen = data.seqLen();
        inputSize = config.inputSize();
        overwrite = true;

        ShadedJarCheck.Result shading = ShadedJarCheck.run();
        shading.lines().forEach(line -> err.println("example: " + line));

        SparkSession spark = LocalSession.start(master);
        try {
            data.rows(spark, n, Math.max(2, Math.min(64, n / 2_500))).write()
                    .mode(SaveMode.Overwrite).parquet(in);
            err.printf(Locale.ROOT, "example: %,d sequences of %d x %d floats (lengths 1..%d, a few null) -> %s%n", n,
                    data.seqLen(), config.inputSize(), data.seqLen(), in);
            Scored scored = score(spark, model, in, out, err);
            double worst = check(spark, out, model, data, n, err);
            err.printf(Locale.ROOT, "example: %,d rows in %.1f s: %,.0f rows/s, reading and writing Parquet included "
                    + "(scoring alone: --bench); %,d null rows got null outputs -> %s%n", scored.rows(), scored.seconds(),
                    scored.rows() / scored.seconds(), scored.withoutOutput(), out);
            boolean ok = worst <= 1e-5 && shading.ok();
            err.println(ok ? "example: ok" : "example: FAILED");
            return ok ? Main.EXIT_OK : Main.EXIT_RUNTIME;
        } finally {
            spark.stop();
        }
    }

    /** Compares up to 64 scored rows, spread over the file, with a direct forward on this JVM; the largest difference. */
    private double check(SparkSession spark, String out, Path model, ExampleData data, long n, PrintWriter err)
            throws IOException {
        long step = Math.max(1, n / 64);
        List<Row> sample = spark.read().parquet(out).filter(functions.col("id").mod(step).equalTo(0)).orderBy("id")
                .collectAsList();
        double worst = 0;
        int checked = 0;
        try (Device d = Device.select(device); Rnn rnn = Rnn.load(d, model, RnnOptions.defaults().batchFirst(true))) {
            for (Row row : sample) {
                long id = row.getLong(row.fieldIndex("id"));
                if (data.isGap(id)) {
                    continue;
                }
                RnnInput x = RnnInput.of(Tensor.of(data.sequence(id), 1, data.seqLen(), data.inputSize()));
                Integer length = data.length(id);
                RnnOutput y = rnn.forward(length == null ? x : x.lengths(length));
                worst = Math.max(worst, maxDiff(y.output().data(), row.getList(row.fieldIndex("output"))));
                worst = Math.max(worst, maxDiff(y.hidden().data(), row.getList(row.fieldIndex("h_n"))));
                worst = Math.max(worst, maxDiff(y.cell().data(), row.getList(row.fieldIndex("c_n"))));
                checked++;
            }
        }
        err.printf(Locale.ROOT, "example: %d rows checked against a direct forward: max |difference| %.1e (bound 1e-5)%n",
                checked, worst);
        return checked == 0 ? Double.NaN : worst;
    }

    private int bench(PrintWriter err) throws IOException {
        Path dir = workdir != null ? Files.createDirectories(workdir) : Files.createTempDirectory("clrnn-spark-bench");
        RnnConfig config = RnnConfig.of(CellType.LSTM, 32, 64);
        ExampleData data = new ExampleData(20, config.inputSize(), false, false);
        int n = rows == null ? 200_000 : rows;
        SparkBench.Result r = SparkBench.run(config, data, n, batchSize, 8, rounds, master, device, dir, err);
        spec.commandLine().getOut().printf(Locale.ROOT, "bare clrnn: %,.0f rows/s%nspark path: %,.0f rows/s (%.0f%% of bare)%n",
                r.bareRowsPerSecond(), r.sparkRowsPerSecond(), 100 * r.ratio());
        return Main.EXIT_OK;
    }

    private static double maxDiff(float[] expected, List<Object> actual) {
        if (actual == null || actual.size() != expected.length) {
            return Double.POSITIVE_INFINITY;
        }
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - (Float) actual.get(i)));
        }
        return worst;
    }

    /**
     * Warnings and errors on stderr, as the CLI logs; but a failed task is reported once, as spark-score's one-line
     * error, not again by Spark's executor, scheduler and writer with stack traces (--verbose keeps them). Under
     * spark-submit, Spark's own logging configuration rules and this does nothing.
     */
    private static void quietSpark() {
        if (LoggerFactory.getILoggerFactory().getClass().getName().equals("ch.qos.logback.classic.LoggerContext")) {
            Logback.quiet();
        }
    }

    /** Apart, so that nothing loads Logback's classes where Logback is absent. */
    private static final class Logback {
        static void quiet() {
            LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
            for (String logger : List.of("org.apache.spark.executor.Executor", "org.apache.spark.scheduler.TaskSetManager",
                    "org.apache.spark.sql.execution.datasources.FileFormatWriter", "org.apache.spark.util.Utils")) {
                context.getLogger(logger).setLevel(Level.OFF);
            }
            for (String logger : List.of("org.apache.hadoop.util.NativeCodeLoader",
                    "org.apache.hadoop.mapreduce.lib.output.FileOutputCommitter",
                    "org.apache.spark.sql.execution.streaming.FileStreamSink")) {
                context.getLogger(logger).setLevel(Level.ERROR);
            }
        }
    }

    /** The clrnn exception behind a failed Spark job, if one is: Spark wraps the task's failure. */
    private static Throwable clrnnCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ClrnnException) {
                return t;
            }
        }
        return e;
    }

    private static String firstLine(String message) {
        int newline = message == null ? -1 : message.indexOf('\n');
        return newline < 0 ? String.valueOf(message) : message.substring(0, newline);
    }
}
