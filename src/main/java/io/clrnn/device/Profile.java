package io.clrnn.device;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;

/**
 * Where one forward's time goes: the OpenCL events of its commands (on a queue with profiling enabled),
 * summed per family of commands, and the host's own time per phase. Releases the events when read. A family is
 * named by whoever enqueues its commands: the device names its transfers ({@link #TRANSFER}), the layers above
 * name their kernels (the engine's projection and recurrence, a graph's operators).
 */
public final class Profile {
    /** The family of every copy, read, write, fill and mapping. */
    public static final String TRANSFER = "transfer";

    /**
     * The host's phases of a forward: checking the input and allocating the outputs; packing X and the
     * states into the staging area; setting kernel arguments; enqueueing commands; waiting for the results
     * (the device's work, plus whatever it takes the runtime to wake up and report); copying the results
     * out into the caller's arrays.
     */
    public enum Host { ALLOCATE, PACK, ARGUMENTS, ENQUEUE, WAIT, UNPACK }

    private final long[] hostNanos = new long[Host.values().length];
    /** Whether commands record events; without them, only the host's phases are timed, at no cost to the device. */
    private final boolean recordsEvents;

    /** A profile of device events and host phases; the device's queue must profile (Device.select(spec, true)). */
    public Profile() {
        this(true);
    }

    private Profile(boolean events) {
        this.recordsEvents = events;
    }

    /** Times the host's phases only: commands record no events, so the forward runs as it would unprofiled. */
    public static Profile hostOnly() {
        return new Profile(false);
    }

    /** Whether commands should record an event for this profile. */
    boolean wantsEvents() {
        return recordsEvents;
    }
    private final List<String> families = new ArrayList<>();
    private String recurrence = "";
    private final List<ClEvent> events = new ArrayList<>();

    void add(String family, cl_event event) {
        families.add(family);
        events.add(new ClEvent(event));
    }

    /** Notes which recurrence variant the forward ran (the engine calls this). */
    public void recurrence(String description) {
        recurrence = description;
    }

    /** The recurrence variant of the last forward recorded, e.g. {@code rows_fused}. */
    public String recurrence() {
        return recurrence;
    }

    /** Adds host time to a phase (the engine calls this). */
    public void addHost(Host phase, long nanos) {
        hostNanos[phase.ordinal()] += nanos;
    }

    /** Host nanoseconds per phase, over the forwards recorded. */
    public Map<Host, Long> hostNanos() {
        Map<Host, Long> m = new EnumMap<>(Host.class);
        for (Host h : Host.values()) {
            m.put(h, hostNanos[h.ordinal()]);
        }
        return m;
    }

    /** Commands of {@code family} recorded so far. */
    public int commands(String family) {
        return (int) families.stream().filter(family::equals).count();
    }

    /**
     * Device nanoseconds per family, the families in the order their first command was recorded; call after the
     * commands finished. Releases the events.
     */
    public Map<String, Long> nanosByFamily() {
        Map<String, Long> total = new LinkedHashMap<>();
        long[] start = new long[1];
        long[] end = new long[1];
        try {
            for (int i = 0; i < events.size(); i++) {
                cl_event e = events.get(i).handle();
                CheckedCl.check(CL.clGetEventProfilingInfo(e, CL.CL_PROFILING_COMMAND_START, Sizeof.cl_ulong,
                        Pointer.to(start), null), "clGetEventProfilingInfo");
                CheckedCl.check(CL.clGetEventProfilingInfo(e, CL.CL_PROFILING_COMMAND_END, Sizeof.cl_ulong,
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
