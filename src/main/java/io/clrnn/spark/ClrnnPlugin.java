package io.clrnn.spark;

import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Closes the modules and devices an executor opened for {@link ClrnnScorer} when the executor shuts down
 * (in local mode: at {@code spark.stop()}). Enable it with {@code spark.plugins=io.clrnn.spark.ClrnnPlugin};
 * without it they close at JVM exit, through a shutdown hook. Nothing runs on the driver.
 */
public final class ClrnnPlugin implements SparkPlugin {
    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void shutdown() {
                ExecutorModules.closeAll();
            }
        };
    }
}
