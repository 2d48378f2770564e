package io.clrnn.cli.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.RnnOptions;
import io.clrnn.base.RnnOutput;
import io.clrnn.StateDict;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/** scripts/spark-score's command in this JVM: a Parquet file scored, and mistakes as one line with exit 2. */
@EnabledIf(value = "io.clrnn.spark.SparkOnClasspath#present",
        disabledReason = "Spark is not on this classpath (the test bundle leaves it out)")
class SparkScoreTest {
    static final RnnConfig GRU = RnnConfig.of(CellType.GRU, 4, 6);
    static final ExampleData DATA = new ExampleData(5, 4, true, true);

    @TempDir
    static Path dir;
    static Path weights;
    static String input;

    @BeforeAll
    static void files() throws IOException {
        weights = dir.resolve("gru.safetensors");
        StateDict.save(RnnWeights.init(GRU, 3), weights);
        input = dir.resolve("in.parquet").toString();
        SparkSession spark = LocalSession.start("local[2]");
        try {
            DATA.rows(spark, 20_020, 4).write().parquet(input);
        } finally {
            spark.stop();
        }
    }

    record Run(int code, String err) {}

    static Run run(String... args) {
        StringWriter err = new StringWriter();
        int code = SparkScore.run(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        return new Run(code, err.toString());
    }

    @Test
    void scoresAParquetFileKeepingOtherColumnsAndOrder() throws IOException {
        String output = dir.resolve("out.parquet").toString();
        Run r = run("--weights", weights.toString(), "--input", input, "--output", output, "--seq-len", "5",
                "--input-size", "4", "--lengths-col", "len", "--batch-size", "64", "--master", "local[2]",
                "--device", TestDevice.SPEC);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("spark-score: 20,020 rows in "), r.err());
        assertTrue(r.err().contains("(3 null or malformed rows got null outputs)"), r.err());

        SparkSession spark = LocalSession.start("local[2]");
        try (Device device = TestDevice.open();
             Rnn gru = Rnn.load(device, weights, RnnOptions.defaults().batchFirst(true))) {
            List<Row> rows = spark.read().parquet(output).orderBy("id").collectAsList();
            assertEquals(20_020, rows.size());
            assertEquals(List.of("id", "len", "output", "h_n"), List.of(rows.get(0).schema().fieldNames()));
            for (long id : new long[] {0, 1, 5, 4_099, 10_012, 20_018, 20_019}) {
                Row row = rows.get((int) id);
                assertEquals(id, row.getLong(0));
                if (DATA.isGap(id)) {
                    assertNull(row.get(2));
                    assertNull(row.get(3));
                    continue;
                }
                RnnInput x = RnnInput.of(Tensor.of(DATA.sequence(id), 1, 5, 4));
                RnnOutput y = gru.forward(DATA.length(id) == null ? x : x.lengths(DATA.length(id)));
                assertClose(y.output().data(), row.getList(2), "row " + id + " output");
                assertClose(y.hidden().data(), row.getList(3), "row " + id + " h_n");
            }
        } finally {
            spark.stop();
        }
    }

    @Test
    void mistakesAreOneLineAndExitTwo() {
        Run missing = run("--weights", dir.resolve("nope.pt").toString(), "--input", input, "--output",
                dir.resolve("o1.parquet").toString(), "--master", "local[2]");
        assertEquals(2, missing.code(), missing.err());
        assertEquals("error: no such file: " + dir.resolve("nope.pt"), missing.err().strip());

        Run width = run("--weights", weights.toString(), "--input", input, "--output",
                dir.resolve("o2.parquet").toString(), "--input-size", "3", "--master", "local[2]",
                "--device", TestDevice.SPEC);
        assertEquals(2, width.code(), width.err());
        assertTrue(width.err().strip().endsWith("\nerror: input.size(-1) must be equal to input_size. Expected 4, "
                + "got 3"), width.err());

        Run usage = run("--input", input);
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("error: give --weights, --input and --output (or --example, or --bench)"),
                usage.err());
    }

    static void assertClose(float[] expected, List<Object> actual, String what) {
        assertEquals(expected.length, actual.size(), what);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - (Float) actual.get(i)) <= 1e-5, what + " element " + i);
        }
    }
}
