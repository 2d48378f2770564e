package io.clrnn.serve;

/**
 * How the server batches and bounds its work.
 *
 * @param maxBatchSize       sequences one forward may gather from concurrent requests
 * @param maxQueueDelayNanos how long the first request of a batch waits for others (0: not at all; what queued while
 *                           the previous forward ran forms the next batch)
 * @param maxQueue           requests a model's queue holds before it answers 503
 * @param maxBodyBytes       the largest request body read (413 beyond)
 * @param maxSequences       sequences a model keeps state for at once
 * @param sequenceIdleNanos  how long a sequence may go without a request before it is dropped
 */
public record ServerOptions(int maxBatchSize, long maxQueueDelayNanos, int maxQueue, long maxBodyBytes, int maxSequences,
        long sequenceIdleNanos) {
    public static ServerOptions defaults() {
        return new ServerOptions(64, 0, 1024, 64L << 20, 64, 60_000_000_000L);
    }
}
