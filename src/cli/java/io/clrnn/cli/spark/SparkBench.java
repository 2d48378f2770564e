package io.clrnn.cli.spark;

import io.clrnn.Rnn;
import io.clrnn.base.RnnOutput;
import io.clrnn.StateDict;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import io.clrnn.spark.ClrnnScorer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Throughput of the same sequences scored two ways: bare clrnn (one module, batches of {@code batch}, a plain
 * loop over tensors made beforehand) and the Spark path (ClrnnScorer over a cached DataFrame in local mode,
 * written to Spark's no-op sink, so neither reading nor writing files is timed). Both produce every output: the
 * output sequence, h_n and c_n. Rounds alternate between the two; each keeps its best round, after one warm-up
 * round each (kernel builds, the JIT, the executor's module).
 */
final class SparkBench {
    record Result(double bareRowsPerSecond, double sparkRowsPerSecond) {
        double ratio() {
            return sparkRowsPerSecond / bareRowsPerSecond;
        }
    }

    private SparkBench() {}

    static Result run(RnnConfig config, ExampleData data, int rows, int batch, int partitions, int rounds,
            String master, String deviceSpec, Path workdir, PrintWriter err) throws IOException {
        Path weights = workdir.resolve("bench-" + config.mode().cliName() + ".safetensors");
        StateDict.save(RnnWeights.init(config, 1), weights);

        List<Tensor> batches = new ArrayList<>();
        for (int first = 0; first < rows; first += batch) {
            int n = Math.min(batch, rows - first);
            float[] x = new float[n * data.seqLen() * config.inputSize()];
            for (int b = 0; b < n; b++) {
                float[] s = data.sequence(first + b);
                System.arraycopy(s, 0, x, b * s.length, s.length);
            }
            batches.add(Tensor.of(x, n, data.seqLen(), config.inputSize()));
        }

        SparkSession spark = LocalSession.start(master);
        err.printf(Locale.ROOT, "bench: %s, seq %d, %,d sequences, batches of %d; Spark %s, %d partitions%n", config,
                data.seqLen(), rows, batch, spark.sparkContext().master(), partitions);
        try (Device device = Device.select(deviceSpec);
             Rnn rnn = Rnn.load(device, weights, io.clrnn.RnnOptions.defaults().batchFirst(true))) {
            err.println("bench: device " + device);
            Dataset<Row> input = data.rows(spark, rows, partitions).cache();
            input.count();
            Dataset<Row> scored = ClrnnScorer.builder().weights(weights).cellCol("c_n").batchSize(batch)
                    .device(deviceSpec).build().transform(input);
            double bare = 0;
            double viaSpark = 0;
            for (int round = 0; round <= rounds; round++) {
                double b = rows / seconds(() -> {
                    for (Tensor x : batches) {
                        RnnOutput y = rnn.forward(x);
                        if (y.cell() == null) {
                            throw new IllegalStateException("no c_n");
                        }
                    }
                });
                double s = rows / seconds(() -> scored.write().format("noop").mode("overwrite").save());
                String what = round == 0 ? "warm-up" : "round " + round;
                err.printf(Locale.ROOT, "bench: %-8s bare %,9.0f rows/s   spark %,9.0f rows/s   (%.0f%%)%n", what, b, s,
                        100 * s / b);
                if (round > 0) {
                    bare = Math.max(bare, b);
                    viaSpark = Math.max(viaSpark, s);
                }
            }
            input.unpersist();
            return new Result(bare, viaSpark);
        } finally {
            spark.stop();
            Files.deleteIfExists(weights);
        }
    }

    private static double seconds(Runnable work) {
        long start = System.nanoTime();
        work.run();
        return (System.nanoTime() - start) / 1e9;
    }
}
