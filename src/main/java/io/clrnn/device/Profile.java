package io.clrnn.device;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;

/**
 * Collects OpenCL events of one forward (on a queue with profiling enabled) and sums their device
 * time per kernel family; releases the events when read.
 */
public final class Profile {
    public enum Family { PROJECTION, RECURRENCE, TRANSFER }

    private final List<Family> families = new ArrayList<>();
    private String plan = "";
    private final List<ClEvent> events = new ArrayList<>();

    void add(Family family, cl_event event) {
        families.add(family);
        events.add(new ClEvent(event));
    }

    /** Notes which recurrence variant the forward ran (the engine calls this). */
    public void plan(String description) {
        plan = description;
    }

    /** The recurrence variant of the last forward recorded, e.g. {@code rows_fused}. */
    public String plan() {
        return plan;
    }

    /** Commands of {@code family} recorded so far. */
    public int commands(Family family) {
        return (int) families.stream().filter(f -> f == family).count();
    }

    /** Device nanoseconds per family; call after the commands finished. Releases the events. */
    public Map<Family, Long> nanosByFamily() {
        Map<Family, Long> total = new EnumMap<>(Family.class);
        for (Family f : Family.values()) {
            total.put(f, 0L);
        }
        long[] start = new long[1];
        long[] end = new long[1];
        try {
            for (int i = 0; i < events.size(); i++) {
                cl_event e = events.get(i).handle();
                Cl.check(CL.clGetEventProfilingInfo(e, CL.CL_PROFILING_COMMAND_START, Sizeof.cl_ulong,
                        Pointer.to(start), null), "clGetEventProfilingInfo");
                Cl.check(CL.clGetEventProfilingInfo(e, CL.CL_PROFILING_COMMAND_END, Sizeof.cl_ulong,
                        Pointer.to(end), null), "clGetEventProfilingInfo");
                total.merge(families.get(i), end[0] - start[0], Long::sum);
            }
        } finally {
            release();
        }
        return total;
    }

    /** Releases events without reading them (after a failed forward, say). */
    public void release() {
        events.forEach(ClEvent::close);
        events.clear();
        families.clear();
    }
}
