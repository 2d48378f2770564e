package io.clrnn.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The server's metrics, in a registry of its own, written in Prometheus' text format for GET /metrics. */
final class Metrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("clrnn_requests_total")
            .help("Inference requests answered, by model and HTTP status").labelNames("model", "status")
            .register(registry);
    private final Counter rejected = Counter.builder().name("clrnn_rejected_total")
            .help("Requests refused because the model's queue was full").labelNames("model").register(registry);
    private final Histogram batchRows = Histogram.builder().name("clrnn_batch_rows")
            .help("Sequences per forward run by a model's batcher").labelNames("model")
            .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
    private final Histogram queueSeconds = Histogram.builder().name("clrnn_queue_seconds")
            .help("Time a request waited in its model's queue").labelNames("model")
            .classicUpperBounds(1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 1)
            .register(registry);
    private final Histogram runSeconds = Histogram.builder().name("clrnn_run_seconds")
            .help("Time of one batch's forward, upload to results read back").labelNames("model")
            .classicUpperBounds(1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 1)
            .register(registry);
    private final Gauge sequences = Gauge.builder().name("clrnn_open_sequences")
            .help("Sequences whose state the server keeps").labelNames("model").register(registry);

    /** Makes a model's series, so that they are there (at zero) before its first request. */
    void model(String model) {
        rejected.labelValues(model);
        batchRows.labelValues(model);
        queueSeconds.labelValues(model);
        runSeconds.labelValues(model);
        sequences.labelValues(model).set(0);
    }

    void request(String model, int status) {
        requests.labelValues(model, Integer.toString(status)).inc();
    }

    void rejected(String model) {
        rejected.labelValues(model).inc();
    }

    void batch(String model, int rows) {
        batchRows.labelValues(model).observe(rows);
    }

    void queued(String model, double seconds) {
        queueSeconds.labelValues(model).observe(seconds);
    }

    void ran(String model, double seconds) {
        runSeconds.labelValues(model).observe(seconds);
    }

    void sequences(String model, int open) {
        sequences.labelValues(model).set(open);
    }

    byte[] text() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
