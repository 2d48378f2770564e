package io.clrnn.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers one model's requests into batches: the first request waits at most {@code maxDelayNanos} for others, or
 * until {@code maxRows} rows are there, and the batch runs on this batcher's own thread, so a model's device work
 * goes one batch at a time. A queue longer than {@code maxQueue} refuses new requests (503).
 */
final class Batcher<Q, R> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Batcher.class);

    /** A queued request: its rows (sequences), its answer, and when it arrived. */
    static final class Pending<Q, R> {
        final Q request;
        final int rows;
        final CompletableFuture<R> answer = new CompletableFuture<>();
        final long arrived = System.nanoTime();

        Pending(Q request, int rows) {
            this.request = request;
            this.rows = rows;
        }
    }

    private final String model;
    private final int maxRows;
    private final long maxDelayNanos;
    private final int maxQueue;
    private final Consumer<List<Pending<Q, R>>> run;
    private final Metrics metrics;
    private final LinkedBlockingDeque<Pending<Q, R>> queue = new LinkedBlockingDeque<>();
    private final Thread worker;
    private volatile boolean closing;

    Batcher(String model, int maxRows, long maxDelayNanos, int maxQueue, Consumer<List<Pending<Q, R>>> run,
            Metrics metrics) {
        this.model = model;
        this.maxRows = maxRows;
        this.maxDelayNanos = maxDelayNanos;
        this.maxQueue = maxQueue;
        this.run = run;
        this.metrics = metrics;
        this.worker = new Thread(this::loop, "clrnn-batcher-" + model);
        worker.setDaemon(true);
        worker.start();
    }

    CompletableFuture<R> submit(Q request, int rows) {
        if (closing) {
            throw new BadRequest(503, "the server is shutting down");
        }
        if (queue.size() >= maxQueue) {
            metrics.rejected(model);
            throw new BadRequest(503, "model '" + model + "' is overloaded: " + queue.size()
                    + " requests are waiting (--max-queue " + maxQueue + "); try again later");
        }
        Pending<Q, R> p = new Pending<>(request, rows);
        queue.add(p);
        return p.answer;
    }

    /** Puts requests the run could not take this time back at the head of the queue, in order. */
    void putBack(List<Pending<Q, R>> later) {
        for (int i = later.size() - 1; i >= 0; i--) {
            queue.addFirst(later.get(i));
        }
    }

    private void loop() {
        while (!closing || !queue.isEmpty()) {
            List<Pending<Q, R>> batch = new ArrayList<>();
            try {
                Pending<Q, R> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                int rows = first.rows;
                long deadline = first.arrived + maxDelayNanos;
                while (rows < maxRows) {
                    long wait = deadline - System.nanoTime();
                    Pending<Q, R> next = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    if (rows + next.rows > maxRows) {
                        queue.addFirst(next); // the next batch's first
                        break;
                    }
                    batch.add(next);
                    rows += next.rows;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = System.nanoTime();
            int rows = 0;
            for (Pending<Q, R> p : batch) {
                metrics.queued(model, (now - p.arrived) / 1e9);
                rows += p.rows;
            }
            metrics.batch(model, rows);
            try {
                run.accept(batch);
            } catch (RuntimeException | Error e) {
                log.error("model {}: a batch of {} requests failed", model, batch.size(), e);
                for (Pending<Q, R> p : batch) {
                    p.answer.completeExceptionally(e);
                }
            }
        }
    }

    /** Stops taking requests, answers those queued, then ends the worker. */
    @Override
    public void close() {
        closing = true;
        try {
            worker.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
