package io.clrnn.device;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Base of the small wrappers around OpenCL objects: releases the native object exactly once,
 * refuses use after close, and keeps a live count per kind that tests and soak runs can read.
 */
public abstract class ClResource implements AutoCloseable {
    private static final Map<String, AtomicInteger> LIVE = new ConcurrentHashMap<>();

    private final String kind;
    private final AtomicBoolean closed = new AtomicBoolean();

    protected ClResource(String kind) {
        this.kind = kind;
        LIVE.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
    }

    /** Live native objects by kind ("buffer", "kernel", "program", "queue", "context", "event"). */
    public static Map<String, Integer> liveCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        LIVE.forEach((k, v) -> counts.put(k, v.get()));
        return counts;
    }

    /** All live native objects together. */
    public static int liveCount() {
        return LIVE.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    public final boolean isClosed() {
        return closed.get();
    }

    protected final void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("this OpenCL " + kind + " is closed");
        }
    }

    /** Idempotent: the first call releases, later calls do nothing. */
    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                release();
            } finally {
                LIVE.get(kind).decrementAndGet();
            }
        }
    }

    /** Releases the native object; called once. */
    protected abstract void release();
}
