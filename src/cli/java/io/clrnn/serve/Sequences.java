package io.clrnn.serve;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The sequences a model keeps state for, each in one row of a shared state: a request with {@code sequence_start}
 * takes a free row (its state starts from zeros), later ones of the same {@code sequence_id} find it, the one with
 * {@code sequence_end} gives it back, and a sequence idle for longer than the timeout is dropped. Thread-safe.
 */
final class Sequences implements AutoCloseable {
    /** Dropped sequences remembered, so that a late request hears why. */
    private static final int REMEMBERED = 10_000;

    private final String model;
    private final int capacity;
    private final long idleNanos;
    private final Metrics metrics;
    private final Map<String, Open> open = new HashMap<>();
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final Map<String, Boolean> dropped = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    };
    private final Thread sweeper;
    /** Told the id of each sequence dropped for being idle, so that its owner can free what it holds. */
    private final java.util.function.Consumer<String> onDrop;

    private static final class Open {
        final int row;
        /** Whether the row still holds an earlier sequence's state: cleared before this one's first step. */
        boolean fresh = true;
        long touched = System.nanoTime();

        Open(int row) {
            this.row = row;
        }
    }

    Sequences(String model, int capacity, long idleNanos, Metrics metrics, java.util.function.Consumer<String> onDrop) {
        this.onDrop = onDrop;
        this.model = model;
        this.capacity = capacity;
        this.idleNanos = idleNanos;
        this.metrics = metrics;
        for (int i = 0; i < capacity; i++) {
            free.add(i);
        }
        sweeper = new Thread(this::sweep, "clrnn-sequences-" + model);
        sweeper.setDaemon(true);
        sweeper.start();
    }

    int capacity() {
        return capacity;
    }

    /** Admits a request of {@code s} as it arrives: a start takes a row; any other must find its sequence open. */
    synchronized void admit(ServedModel.Sequence s) {
        Open o = open.get(s.id());
        if (s.start()) {
            if (o == null) {
                Integer row = free.poll();
                if (row == null) {
                    throw new BadRequest(503, "model '" + model + "' keeps " + capacity + " sequences, all open "
                            + "(--max-sequences); end one or try again later");
                }
                o = new Open(row);
                open.put(s.id(), o);
                dropped.remove(s.id());
                metrics.sequences(model, open.size());
            } else {
                o.fresh = true; // started again: from zeros
            }
        } else if (o == null) {
            throw new BadRequest(dropped.containsKey(s.id())
                    ? "sequence " + s.id() + " was dropped after " + idleNanos / 1_000_000_000L + " s idle "
                            + "(--sequence-idle-timeout); start it again with sequence_start"
                    : "sequence " + s.id() + " is unknown: start it with sequence_start");
        }
        o.touched = System.nanoTime();
    }

    /** The row of an admitted sequence, cleared first ({@code reset}) at its first step. */
    synchronized int rowFor(ServedModel.Sequence s, IntConsumer reset) {
        Open o = open.get(s.id());
        if (o == null) {
            throw new BadRequest("sequence " + s.id() + " was dropped before this request ran");
        }
        if (o.fresh) {
            reset.accept(o.row);
            o.fresh = false;
        }
        o.touched = System.nanoTime();
        return o.row;
    }

    synchronized void end(String id) {
        Open o = open.remove(id);
        if (o != null) {
            free.add(o.row);
            metrics.sequences(model, open.size());
        }
    }

    private void sweep() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(Math.max(10, Math.min(1000, idleNanos / 4_000_000)));
            } catch (InterruptedException e) {
                return;
            }
            java.util.List<String> gone = new java.util.ArrayList<>();
            synchronized (this) {
                long now = System.nanoTime();
                open.entrySet().removeIf(e -> {
                    if (now - e.getValue().touched > idleNanos) {
                        free.add(e.getValue().row);
                        dropped.put(e.getKey(), true);
                        gone.add(e.getKey());
                        return true;
                    }
                    return false;
                });
                metrics.sequences(model, open.size());
            }
            gone.forEach(onDrop);
        }
    }

    @Override
    public void close() {
        sweeper.interrupt();
    }
}
