package io.clrnn.cli.spark;

import java.io.PrintWriter;
import java.util.Locale;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/** The progress line: partitions done, rows written and the rate so far, at most once a second, on stderr. */
final class Progress extends SparkListener {
    private final PrintWriter err;
    private final long start = System.nanoTime();
    private long lastPrint = start;
    private long rows;
    private int tasksDone;
    private int tasks;

    private Progress(PrintWriter err) {
        this.err = err;
    }

    static Progress attach(SparkSession spark, PrintWriter err) {
        Progress progress = new Progress(err);
        spark.sparkContext().addSparkListener(progress);
        return progress;
    }

    void detach(SparkSession spark) {
        spark.sparkContext().removeSparkListener(this);
    }

    @Override
    public synchronized void onStageSubmitted(SparkListenerStageSubmitted stage) {
        tasks = stage.stageInfo().numTasks();
        tasksDone = 0;
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd task) {
        if (task.taskMetrics() != null) {
            rows += task.taskMetrics().outputMetrics().recordsWritten();
        }
        tasksDone++;
        long now = System.nanoTime();
        if (now - lastPrint >= 1_000_000_000L || tasksDone == tasks) {
            lastPrint = now;
            err.printf(Locale.ROOT, "spark-score: %d/%d partitions, %,d rows, %,.0f rows/s%n", tasksDone, tasks, rows,
                    rows / ((now - start) / 1e9));
        }
    }

    synchronized long rows() {
        return rows;
    }
}
