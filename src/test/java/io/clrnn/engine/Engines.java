package io.clrnn.engine;

/** Tests' handle on an engine's tuning seam, which library users cannot reach. */
public final class Engines {
    private Engines() {}

    /** Runs {@code variant} from now on (null: the plan chooses); for GROUP, W_hh^T in local memory if asked and it fits. */
    public static void force(RnnEngine engine, KernelPlanner.Variant variant, Boolean localWeights) {
        engine.plans().tune(engine.plans().tuning().withVariant(variant, localWeights));
    }

    /** Caps the steps of one ROWS(_FUSED) or GROUP launch, as a GPU watchdog would. */
    public static void maxStepsPerLaunch(RnnEngine engine, int steps) {
        engine.plans().tune(engine.plans().tuning().withMaxStepsPerLaunch(steps));
    }

    /** Lowers the device's memory limits (bytes per buffer, bytes of all per-call buffers). */
    public static void limitMemory(RnnEngine engine, long maxBufferBytes, long totalBytes) {
        engine.plans().tune(engine.plans().tuning().withMemory(maxBufferBytes, totalBytes));
    }

    /** The largest per-call buffer of a forward of {@code batch} full sequences of {@code seq} steps, in bytes. */
    public static long largestBuffer(RnnEngine engine, int seq, int batch) {
        return WorkspaceLayout.of(engine.layout(), seq, batch, (long) seq * batch).largestBuffer();
    }

    /** The larger host transfer of such a forward, in bytes. */
    public static long largestTransfer(RnnEngine engine, int seq, int batch) {
        return WorkspaceLayout.of(engine.layout(), seq, batch, (long) seq * batch).largestTransfer();
    }

    /** Lets forwards take the device's in-thread latency lane, or keeps them on its own queue. */
    public static void latencyLane(RnnEngine engine, boolean allowed) {
        engine.plans().tune(engine.plans().tuning().withLatencyLane(allowed));
    }

    /** Lowers the 2 GiB limit of one host transfer. */
    public static void limitTransfers(RnnEngine engine, long bytes) {
        engine.plans().tune(engine.plans().tuning().withMaxTransferBytes(bytes));
    }

    /** Makes rnn_team or rnn_rows {@code items} work-items per direction (0: as many as the plan says). */
    public static void items(RnnEngine engine, int items) {
        engine.plans().tune(engine.plans().tuning().withItems(items));
    }

    /** Shares a fused rnn_rows between the caller and the worker threads, or keeps it on the workers (null: the plan's). */
    public static void shared(RnnEngine engine, Boolean shared) {
        engine.plans().tune(engine.plans().tuning().withShared(shared));
    }
}
