package io.clrnn.engine;

import io.clrnn.base.WeightsDtype;
import io.clrnn.device.ClKernel;
import io.clrnn.device.Device;
import io.clrnn.device.KernelCache;

/**
 * The recurrence plan of each forward's shape ({@link KernelPlanner#recurrence}) with its kernel object, the
 * {@link Tuning} overrides applied, and rnn_rows wherever the {@link TeamBarrier} says teams are to be avoided. The
 * last plan is kept: services call forward with the same shape again and again.
 */
final class RecurrencePlans {
    /** A plan and the kernel object that runs it. */
    record Planned(KernelPlanner.RecurrencePlan plan, ClKernel kernel) {}

    private record Cached(int seqLen, int batch, long rows, boolean teamAvoided, Planned planned) {}

    private final Device device;
    private final WeightLayout layout;
    private final WeightsDtype dtype;
    private final KernelCache kernels;
    private final TeamBarrier team;
    private Tuning tuning = Tuning.NONE;
    private Cached last;

    RecurrencePlans(Device device, WeightLayout layout, WeightsDtype dtype, KernelCache kernels, TeamBarrier team) {
        this.device = device;
        this.layout = layout;
        this.dtype = dtype;
        this.kernels = kernels;
        this.team = team;
    }

    Tuning tuning() {
        return tuning;
    }

    /** Test and tuning overrides; {@link Tuning#NONE} leaves every choice to the plan and the device. */
    void tune(Tuning value) {
        tuning = value;
        last = null;
    }

    /** The plan of a forward of {@code batch} sequences of up to {@code seqLen} steps, {@code rows} rows in all. */
    Planned plan(int seqLen, int batch, long rows) {
        boolean avoidTeam = team.avoided();
        Cached cached = last;
        if (cached != null && cached.seqLen == seqLen && cached.batch == batch && cached.rows == rows
                && cached.teamAvoided == avoidTeam) {
            return cached.planned;
        }
        boolean latencyLane = device.hasLatencyLane() && tuning.latencyLane();
        KernelPlanner.RecurrencePlan plan = KernelPlanner.recurrence(device.info(), latencyLane, layout, seqLen, batch, rows,
                Long.MAX_VALUE, tuning.variant());
        if (plan.variant() == KernelPlanner.Variant.GROUP) {
            // The work-group limit is known only once the kernel is built; the kernel does not depend on it.
            long limit = device.maxWorkGroupSize(kernel(plan));
            plan = KernelPlanner.recurrence(device.info(), latencyLane, layout, seqLen, batch, rows, limit,
                    tuning.variant());
        }
        if (plan.variant() == KernelPlanner.Variant.TEAM && avoidTeam) {
            plan = KernelPlanner.recurrence(device.info(), latencyLane, layout, seqLen, batch, rows, Long.MAX_VALUE,
                    KernelPlanner.Variant.ROWS);
        } else if (plan.variant() != KernelPlanner.Variant.GROUP && plan.variant() != KernelPlanner.Variant.STEP
                && tuning.items() > 0) {
            plan = plan.withItems(tuning.items());
        }
        if (plan.variant() == KernelPlanner.Variant.ROWS_FUSED && tuning.shared() != null && latencyLane) {
            plan = plan.withShared(tuning.shared());
        }
        if (plan.variant() == KernelPlanner.Variant.GROUP && tuning.localWeights() != null) {
            plan = plan.withWLocal(tuning.localWeights() && KernelPlanner.fitsLocal(device.info(), layout));
        }
        Planned planned = new Planned(plan, kernel(plan));
        last = new Cached(seqLen, batch, rows, avoidTeam, planned);
        return planned;
    }

    /** The recurrence kernel of {@code plan}'s variant, built for this module the first time. */
    private ClKernel kernel(KernelPlanner.RecurrencePlan plan) {
        KernelPlanner.Variant v = plan.variant();
        String program = "recurrence " + v.label() + " " + layout.config();
        return kernels.get(new KernelCache.Key(program, v.kernel(), plan.wLocal()),
                () -> device.programFromSource(program,
                        KernelSources.recurrenceSource(layout, dtype, device.info(), v, plan.wLocal())).kernel(v.kernel()));
    }
}
