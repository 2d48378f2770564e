package io.clrnn.cli.spark;

import io.clrnn.spark.ClrnnPlugin;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session spark-score runs in: local mode on this machine's cores, with {@link ClrnnPlugin} closing the
 * modules at the end. No GPU resource settings: local mode cannot assign GPUs, and asking it for them leaves its
 * tasks waiting forever; name the device with --device instead.
 */
final class LocalSession {
    private LocalSession() {}

    static SparkSession start(String master) {
        return SparkSession.builder()
                .master(master)
                .appName("clrnn spark-score")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.plugins", ClrnnPlugin.class.getName())
                .getOrCreate();
    }
}
