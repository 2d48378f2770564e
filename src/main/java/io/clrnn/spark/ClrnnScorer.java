package io.clrnn.spark;

import io.clrnn.base.InvalidInputException;
import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.base.WeightsDtype;
import io.clrnn.model.CellType;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Spark ML {@link Transformer} that runs a recurrent module (RNN, LSTM or GRU, from a safetensors or
 * torch.save file) over a column of sequences and appends {@code output}, {@code h_n} and, for an LSTM,
 * {@code c_n}. Rows are scored in {@code mapPartitions}, in groups of {@code batchSize}: each group is padded to
 * its longest sequence and runs as one forward with every row's own length. Row order is kept; a null or
 * malformed row gets null outputs, or fails the job when {@code failOnBadRow}.
 *
 * <pre>{@code
 * ClrnnScorer scorer = ClrnnScorer.builder()
 *         .weights("lstm.safetensors")            // a shared path, or the name of a file shipped with --files
 *         .inputCol("sequence")                   // array<float> of seq*input_size values, or array<array<float>>
 *         .cellCol("c_n")                         // an LSTM's c_n; output and h_n come by default
 *         .device("resource:gpu")                 // the GPU Spark assigned to the task; default auto
 *         .build();
 * Dataset<Row> scored = scorer.transform(sequences);
 * }</pre>
 *
 * Each executor JVM opens the module once, on its first task, and shares it between its task threads; enable
 * {@link ClrnnPlugin} ({@code spark.plugins=io.clrnn.spark.ClrnnPlugin}) to close it when the executor stops.
 */
public final class ClrnnScorer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private static final Logger log = LoggerFactory.getLogger(ClrnnScorer.class);

    private final String uid;

    private final Param<String> weights;
    private final Param<String> inputCol;
    private final IntParam seqLen;
    private final IntParam inputSize;
    private final Param<String> lengthsCol;
    private final Param<String> outputCol;
    private final Param<String> hiddenCol;
    private final Param<String> cellCol;
    private final IntParam batchSize;
    private final Param<String> mode;
    private final Param<String> nonlinearity;
    private final Param<String> prefix;
    private final Param<String> weightsDtype;
    private final Param<String> device;
    private final BooleanParam failOnBadRow;

    public ClrnnScorer() {
        this(Identifiable.randomUID("clrnnScorer"));
    }

    public ClrnnScorer(String uid) {
        this.uid = uid;
        // Made here, after uid: a Param takes its parent's uid when made. Each with its description and default.
        weights = stringParam("weights", "the weights file (safetensors or torch.save): a path every executor can "
                + "read, or the name of a file shipped with --files or SparkContext.addFile", null);
        inputCol = stringParam("inputCol", "the sequences: array<float> of seq*input_size values, or "
                + "array<array<float>> of seq steps; float or double", "sequence");
        seqLen = intParam("seqLen", "every row's sequence length; 0: each row's own (a flat row's values / "
                + "input_size)", 0, 0);
        inputSize = intParam("inputSize", "values per step of a flat input, checked against the module's "
                + "input_size; 0: the module's", 0, 0);
        lengthsCol = stringParam("lengthsCol", "an int column of each sequence's length (1..seq; null: the whole "
                + "row); empty: none", "");
        outputCol = stringParam("outputCol", "the output sequence, in the input's layout, D*H_out values a step; "
                + "empty: not wanted", "output");
        hiddenCol = stringParam("hiddenCol", "h_n, (layers*D, H_out) flat; empty: not wanted", "h_n");
        cellCol = stringParam("cellCol", "an LSTM's c_n, (layers*D, hidden_size) flat; empty (the default): not "
                + "wanted", "");
        batchSize = intParam("batchSize", "rows per forward", 1, 256);
        mode = stringParam("mode", "rnn_tanh, rnn_relu, lstm or gru, checked against the weights; empty: inferred",
                "");
        nonlinearity = stringParam("nonlinearity", "an RNN's activation, tanh or relu; empty: tanh", "");
        prefix = stringParam("prefix", "the module's key prefix in a whole model's state_dict, e.g. encoder.lstm; "
                + "empty: found", "");
        weightsDtype = stringParam("weightsDtype", "how the weights are kept on the device: f32 or f16", "f32");
        device = stringParam("device", "the OpenCL device of each executor: auto, cpu, gpu, an index, part of a "
                + "name, or resource:gpu (the GPU Spark assigned to the task)", "auto");
        failOnBadRow = new BooleanParam(this, "failOnBadRow", "fail the job on a null or malformed row instead of "
                + "giving it null outputs");
        setDefault(failOnBadRow, false);
    }

    /** A string param of this scorer; {@code defaultValue} null: none (the param must be set). */
    private Param<String> stringParam(String name, String doc, String defaultValue) {
        Param<String> param = new Param<>(this, name, doc);
        if (defaultValue != null) {
            setDefault(param, defaultValue);
        }
        return param;
    }

    /** An int param of this scorer, at least {@code min}. */
    private IntParam intParam(String name, String doc, int min, int defaultValue) {
        IntParam param = new IntParam(this, name, doc, ParamValidators.gtEq(min));
        setDefault(param, defaultValue);
        return param;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return Layout.of(schema, plan(schema)).outputSchema();
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = dataset.schema();
        ScoringPlan plan = plan(schema);
        StructType out = Layout.of(schema, plan).outputSchema();
        checkDeviceFor(dataset.sparkSession());
        return SparkInternals.mapPartitions(dataset, plan, out);
    }

    @Override
    public ClrnnScorer copy(ParamMap extra) {
        return (ClrnnScorer) defaultCopy(extra);
    }

    /** Reads a scorer saved with {@code write().save(path)}, e.g. in a PipelineModel. */
    public static MLReader<ClrnnScorer> read() {
        return new DefaultParamsReader<>();
    }

    public static ClrnnScorer load(String path) {
        return read().load(path);
    }

    /** What the tasks receive: strings and numbers, checked here on the driver first. */
    ScoringPlan plan(StructType schema) {
        if (!isDefined(weights) || getWeights().isBlank()) {
            throw new InvalidInputException("ClrnnScorer needs weights: a weights file path, or the name of a "
                    + "file shipped with --files");
        }
        ScoringPlan plan = new ScoringPlan(this, schema);
        plan.options(); // names checked here, not in a task
        return plan;
    }

    /**
     * Local mode has no GPUs to assign: a local session asked for some leaves its tasks waiting forever, and
     * resource:gpu names nothing there. Both are refused before any job starts.
     */
    private void checkDeviceFor(SparkSession session) {
        String problem = localGpuProblem(session.sparkContext().master(), session.sparkContext().getConf(), getDevice());
        if (problem != null) {
            throw new InvalidInputException(problem);
        }
        if (!session.sparkContext().getConf().get("spark.plugins", "").contains(ClrnnPlugin.class.getName())) {
            log.info("spark.plugins does not list {}: executors close their clrnn modules at JVM exit",
                    ClrnnPlugin.class.getName());
        }
    }

    /** What is wrong with GPUs in a local-mode session, or null. */
    static String localGpuProblem(String master, SparkConf conf, String device) {
        if (!(master.equals("local") || master.startsWith("local["))) {
            return null;
        }
        for (String key : new String[] {"spark.task.resource.gpu.amount", "spark.executor.resource.gpu.amount"}) {
            if (conf.contains(key)) {
                return key + " is set, but local mode cannot assign GPUs and its tasks would wait forever; remove "
                        + "it and name the device instead: device gpu, or an index from 'clrnn devices'";
            }
        }
        if (DeviceChoice.isSparkGpu(device)) {
            return "device " + DeviceChoice.SPARK_GPU + " needs GPUs that a cluster manager assigns "
                    + "(spark.executor.resource.gpu.amount); in local mode name the device instead: auto, gpu, or an "
                    + "index from 'clrnn devices'";
        }
        return null;
    }

    // Spark ML's params: accessors by name, getters and setters.

    public Param<String> weights() {
        return weights;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public IntParam seqLen() {
        return seqLen;
    }

    public IntParam inputSize() {
        return inputSize;
    }

    public Param<String> lengthsCol() {
        return lengthsCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> hiddenCol() {
        return hiddenCol;
    }

    public Param<String> cellCol() {
        return cellCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> mode() {
        return mode;
    }

    public Param<String> nonlinearity() {
        return nonlinearity;
    }

    public Param<String> prefix() {
        return prefix;
    }

    public Param<String> weightsDtype() {
        return weightsDtype;
    }

    public Param<String> device() {
        return device;
    }

    public BooleanParam failOnBadRow() {
        return failOnBadRow;
    }

    public String getWeights() {
        return $(weights);
    }

    public String getInputCol() {
        return $(inputCol);
    }

    public int getSeqLen() {
        return (Integer) $(seqLen);
    }

    public int getInputSize() {
        return (Integer) $(inputSize);
    }

    public String getLengthsCol() {
        return $(lengthsCol);
    }

    public String getOutputCol() {
        return $(outputCol);
    }

    public String getHiddenCol() {
        return $(hiddenCol);
    }

    public String getCellCol() {
        return $(cellCol);
    }

    public int getBatchSize() {
        return (Integer) $(batchSize);
    }

    public String getMode() {
        return $(mode);
    }

    public String getNonlinearity() {
        return $(nonlinearity);
    }

    public String getPrefix() {
        return $(prefix);
    }

    public String getWeightsDtype() {
        return $(weightsDtype);
    }

    public String getDevice() {
        return $(device);
    }

    public boolean getFailOnBadRow() {
        return (Boolean) $(failOnBadRow);
    }

    public ClrnnScorer setWeights(String value) {
        set(weights, value);
        return this;
    }

    public ClrnnScorer setInputCol(String value) {
        set(inputCol, value);
        return this;
    }

    public ClrnnScorer setSeqLen(int value) {
        set(seqLen, value);
        return this;
    }

    public ClrnnScorer setInputSize(int value) {
        set(inputSize, value);
        return this;
    }

    public ClrnnScorer setLengthsCol(String value) {
        set(lengthsCol, value);
        return this;
    }

    public ClrnnScorer setOutputCol(String value) {
        set(outputCol, value);
        return this;
    }

    public ClrnnScorer setHiddenCol(String value) {
        set(hiddenCol, value);
        return this;
    }

    public ClrnnScorer setCellCol(String value) {
        set(cellCol, value);
        return this;
    }

    public ClrnnScorer setBatchSize(int value) {
        set(batchSize, value);
        return this;
    }

    public ClrnnScorer setMode(String value) {
        set(mode, value);
        return this;
    }

    public ClrnnScorer setNonlinearity(String value) {
        set(nonlinearity, value);
        return this;
    }

    public ClrnnScorer setPrefix(String value) {
        set(prefix, value);
        return this;
    }

    public ClrnnScorer setWeightsDtype(String value) {
        set(weightsDtype, value);
        return this;
    }

    public ClrnnScorer setDevice(String value) {
        set(device, value);
        return this;
    }

    public ClrnnScorer setFailOnBadRow(boolean value) {
        set(failOnBadRow, value);
        return this;
    }

    /**
     * Builds a {@link ClrnnScorer} with typed options; {@link #build()} checks them. Unset values keep the
     * scorer's defaults: input column {@code sequence}, outputs {@code output} and {@code h_n}, batches of 256,
     * device {@code auto}, bad rows scored as nulls.
     */
    public static final class Builder {
        private final ClrnnScorer scorer = new ClrnnScorer();

        private Builder() {}

        /** A weights path every executor can read, or the name of a file shipped with --files or addFile. */
        public Builder weights(String path) {
            scorer.setWeights(path);
            return this;
        }

        public Builder weights(Path path) {
            return weights(path.toString());
        }

        public Builder inputCol(String column) {
            scorer.setInputCol(column);
            return this;
        }

        /** Every row's sequence length (a flat row then holds seqLen*input_size values); 0: each row's own. */
        public Builder seqLen(int steps) {
            scorer.setSeqLen(steps);
            return this;
        }

        /** Values per step of a flat input, checked against the module's input_size; 0: the module's. */
        public Builder inputSize(int values) {
            scorer.setInputSize(values);
            return this;
        }

        public Builder lengthsCol(String column) {
            scorer.setLengthsCol(column);
            return this;
        }

        /** The output sequence's column; empty: not wanted. */
        public Builder outputCol(String column) {
            scorer.setOutputCol(column);
            return this;
        }

        /** h_n's column; empty: not wanted. */
        public Builder hiddenCol(String column) {
            scorer.setHiddenCol(column);
            return this;
        }

        /** c_n's column, for an LSTM; empty (the default): not wanted. */
        public Builder cellCol(String column) {
            scorer.setCellCol(column);
            return this;
        }

        public Builder batchSize(int rows) {
            scorer.setBatchSize(rows);
            return this;
        }

        /**
         * The mode, nonlinearity, prefix and weights dtype of {@code options}. batch_first does not apply to rows
         * (each row is one sequence, seq steps of input_size values) and dropout does nothing in eval mode.
         */
        public Builder options(RnnOptions options) {
            mode(options.mode());
            nonlinearity(options.nonlinearity());
            prefix(options.prefix());
            return weightsDtype(options.weightsDtype());
        }

        /** Checked against the weights; null: inferred. */
        public Builder mode(CellType value) {
            scorer.setMode(value == null ? "" : value.cliName());
            return this;
        }

        public Builder nonlinearity(Nonlinearity value) {
            scorer.setNonlinearity(value == null ? "" : value.pytorchName());
            return this;
        }

        /** The module's key prefix in a whole model's state_dict, e.g. {@code encoder.lstm}; null: found. */
        public Builder prefix(String value) {
            scorer.setPrefix(value == null ? "" : value);
            return this;
        }

        public Builder weightsDtype(WeightsDtype value) {
            scorer.setWeightsDtype(value.name().toLowerCase(Locale.ROOT));
            return this;
        }

        /** auto, cpu, gpu, an index, part of a name, or resource:gpu (the GPU Spark assigned to each task). */
        public Builder device(String spec) {
            scorer.setDevice(spec);
            return this;
        }

        public Builder failOnBadRow(boolean value) {
            scorer.setFailOnBadRow(value);
            return this;
        }

        /** A new scorer with these settings; the builder may go on to build others. */
        public ClrnnScorer build() {
            ClrnnScorer built = scorer.copyValues(new ClrnnScorer(), ParamMap.empty());
            built.plan(new StructType());
            return built;
        }
    }
}
