package io.clrnn.spark;

import org.apache.spark.sql.SparkSession;

/**
 * Spark in local mode as the tests run it: two task threads, the Kryo serializer, {@link ClrnnPlugin}, no UI,
 * bound to the loopback address. No GPU resources are requested: local mode cannot assign them.
 */
final class LocalSpark {
    private LocalSpark() {}

    static SparkSession start(String app) {
        return SparkSession.builder()
                .master("local[2]")
                .appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.plugins", ClrnnPlugin.class.getName())
                .config("spark.sql.shuffle.partitions", "8")
                .getOrCreate();
    }
}
