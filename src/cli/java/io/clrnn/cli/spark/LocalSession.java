package io.clrnn.cli.spark;

import io.clrnn.spark.ClrnnPlugin;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session spark-score runs in. Started by scripts/spark-score: local mode on this machine's cores (or
 * the --master given), with {@link ClrnnPlugin} closing the modules at the end, and no GPU resource settings: local
 * mode cannot assign GPUs, and asking it for some leaves its tasks waiting forever; --device names the device
 * instead. Started by spark-submit (spark.master already set): the cluster's session, configured by spark-submit.
 */
final class LocalSession {
    private LocalSession() {}

    /** {@code master} null: spark-submit's master when there is one, else local[*]. */
    static SparkSession start(String master) {
        if (master == null && System.getProperty("spark.master") != null) {
            return SparkSession.builder().appName("clrnn spark-score").getOrCreate();
        }
        return SparkSession.builder()
                .master(master == null ? "local[*]" : master)
                .appName("clrnn spark-score")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.plugins", ClrnnPlugin.class.getName())
                // Parquet read in splits of 8 MB rather than 128: the progress line moves, memory stays small.
                .config("spark.sql.files.maxPartitionBytes", "8m")
                .getOrCreate();
    }
}
