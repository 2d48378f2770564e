package io.clrnn.spark;

import io.clrnn.TestResources;

/**
 * Whether Spark is on this classpath: the one-jar test bundle (scripts/test-bundle) leaves it out, and the tests that
 * need it say so there. No Spark type appears here, so this class loads without it.
 */
public final class SparkOnClasspath {
    private SparkOnClasspath() {}

    public static boolean present() {
        return TestResources.onClasspath("org.apache.spark.SparkConf");
    }
}
