/**
 * Apache Spark integration: {@link io.clrnn.spark.ClrnnScorer}, a Spark ML {@code Transformer} that scores a
 * column of sequences in {@code mapPartitions}, grouped into batches, one forward per group; and
 * {@link io.clrnn.spark.ClrnnPlugin}, which closes each executor's modules and devices when the executor stops.
 *
 * <p>Compiled against the Spark a cluster provides (spark-sql and spark-mllib, {@code provided} scope): a user
 * who does not run Spark never loads these classes. What travels to executors is strings and numbers only
 * (paths, options, device specs); each executor JVM opens its devices and modules lazily, once, and shares
 * them between its task threads.
 */
package io.clrnn.spark;
