package io.clrnn.engine;

/**
 * Overrides of an engine's choices, for tests and tuning only (package-private; tests reach it through
 * their own accessor): a forced variant, a cap on steps per launch (as a GPU watchdog would need), and
 * lower memory and transfer limits, so that any device can be made to split a sequence or a batch;
 * the work-items per direction of rnn_team or rnn_rows (0: the plan's), so that a team can be made too big to
 * run at once and a shared rnn_rows split its items; and whether a fused rnn_rows
 * is shared between the calling thread and the worker threads (null: the plan's choice).
 */
record Tuning(KernelPlanner.Variant variant, Boolean localWeights, int maxStepsPerLaunch, long maxBufferBytes,
        long totalBytes, long maxTransferBytes, boolean latencyLane, int items, Boolean shared) {
    static final Tuning NONE = new Tuning(null, null, Integer.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE,
            Long.MAX_VALUE, true, 0, null);

    /** Whether forwards may take the device's in-thread latency lane (tests compare both lanes). */
    Tuning withLatencyLane(boolean value) {
        return new Tuning(variant, localWeights, maxStepsPerLaunch, maxBufferBytes, totalBytes, maxTransferBytes,
                value, items, shared);
    }

    /** A variant whatever the plan would choose; for GROUP, W_hh^T in local memory or not (where it fits). */
    Tuning withVariant(KernelPlanner.Variant value, Boolean local) {
        return new Tuning(value, local, maxStepsPerLaunch, maxBufferBytes, totalBytes, maxTransferBytes,
                latencyLane, items, shared);
    }

    Tuning withMaxStepsPerLaunch(int value) {
        return new Tuning(variant, localWeights, value, maxBufferBytes, totalBytes, maxTransferBytes, latencyLane,
                items, shared);
    }

    Tuning withMemory(long bufferBytes, long allBytes) {
        return new Tuning(variant, localWeights, maxStepsPerLaunch, bufferBytes, allBytes, maxTransferBytes,
                latencyLane, items, shared);
    }

    Tuning withMaxTransferBytes(long value) {
        return new Tuning(variant, localWeights, maxStepsPerLaunch, maxBufferBytes, totalBytes, value, latencyLane,
                items, shared);
    }

    Tuning withItems(int value) {
        return new Tuning(variant, localWeights, maxStepsPerLaunch, maxBufferBytes, totalBytes, maxTransferBytes,
                latencyLane, value, shared);
    }

    /** rnn_rows with the fused projection shared between the caller and the worker threads or not (null: the plan's). */
    Tuning withShared(Boolean value) {
        return new Tuning(variant, localWeights, maxStepsPerLaunch, maxBufferBytes, totalBytes, maxTransferBytes,
                latencyLane, items, value);
    }
}
