package io.clrnn.device;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One selected OpenCL device with its context and in-order queue. Makes buffers, builds programs
 * (once per source and options), and enqueues transfers and kernels. Closing it releases the
 * programs it built, then the queues and the context; buffers and kernels belong to their makers.
 *
 * <p>A CPU device of PoCL's multi-threaded driver ("pthread") also gets, when PoCL lists it beside
 * (POCL_DEVICES="pthread basic"), the same CPU through PoCL's in-thread driver ("basic") as a second
 * queue in the same context: a {@link Lane#LATENCY} lane that runs commands in the calling thread, with
 * none of the worker wake-ups that cost tens of microseconds per command. Small forwards take it.
 */
public final class Device extends ClResource {
    private static final Logger log = LoggerFactory.getLogger(Device.class);

    /**
     * Guards what is not safe from several threads at once: enumerating platforms and devices (PoCL
     * crashed in clGetDeviceInfo, or listed no device, under concurrent first use), building programs
     * (PoCL renames files in its kernel cache while building), and creating and releasing contexts (JOCL
     * keeps its context callbacks in a global std::map without a lock: SIGSEGV in clCreateContextNative).
     */
    private static final Object SETUP = new Object();
    /** Every device on this machine, enumerated once per JVM under {@link #SETUP}; null until then. */
    private static volatile List<Located> inventory;

    /** Which queue a command goes to: the device's own, or its in-thread twin when it has one. */
    public enum Lane { THROUGHPUT, LATENCY }

    /**
     * Per lane: commands enqueued that may still be running, counted once enqueued, and how many of them a
     * finish has seen done; a finish with nothing new to wait for returns without asking the runtime.
     */
    private final java.util.concurrent.atomic.AtomicLong[] enqueued = {new java.util.concurrent.atomic.AtomicLong(),
        new java.util.concurrent.atomic.AtomicLong()};
    private final java.util.concurrent.atomic.AtomicLong[] finished = {new java.util.concurrent.atomic.AtomicLong(),
        new java.util.concurrent.atomic.AtomicLong()};

    private final DeviceInfo info;
    private final cl_device_id id;
    /** The in-thread twin of a multi-threaded CPU device, or null. */
    private final cl_device_id latencyId;
    /** The context's devices: {@link #id}, then {@link #latencyId} when there is one. */
    private final cl_device_id[] devices;
    /**
     * Called with each guarded OpenCL call's name before the call; null in production. A package-private seam:
     * tests in this package make a chosen call fail there, as a driver out of memory would.
     */
    volatile java.util.function.Consumer<String> callHook;
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_command_queue latencyQueue;
    private final boolean profiling;
    /**
     * Whether transfers block. JOCL waits for a non-blocking transfer's event on a thread of its own (to keep
     * the host memory alive until the copy is done); Oclgrind runs queued commands inside whichever thread
     * waits, with no lock, so that second thread crashed it (SIGSEGV in its MemoryPool). On Oclgrind every
     * transfer blocks and no such thread exists; elsewhere transfers overlap with the host's work. Transfers on
     * the in-thread latency lane always block (see {@link #blocks}).
     */
    private final boolean blockingTransfers;
    private final Map<String, ClProgram> programs = new ConcurrentHashMap<>();
    /** Held by a thread while it enqueues on the latency lane: see {@link #guarded(Lane, String, java.util.function.Function)}. */
    private final Object latencyTurns = new Object();
    /** Every call holds the read lock; close takes the write lock, so it waits for calls in flight. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    private Device(Located located, boolean profiling) {
        super("device");
        this.info = located.info;
        this.id = located.id;
        this.latencyId = located.twin;
        this.devices = latencyId == null ? new cl_device_id[] {id} : new cl_device_id[] {id, latencyId};
        this.profiling = profiling;
        this.blockingTransfers = info.platform().contains("Oclgrind");
        cl_context_properties properties = new cl_context_properties();
        properties.addProperty(CL.CL_CONTEXT_PLATFORM, located.platform);
        int[] status = new int[1];
        synchronized (SETUP) {
            context = CL.clCreateContext(properties, devices.length, devices, null, null, status);
        }
        CheckedCl.check(status[0], "clCreateContext");
        cl_command_queue main = null;
        cl_command_queue latency = null;
        try {
            main = newQueue(id);
            latency = latencyId == null ? null : newQueue(latencyId);
        } catch (RuntimeException e) {
            if (main != null) {
                CL.clReleaseCommandQueue(main);
            }
            synchronized (SETUP) {
                CL.clReleaseContext(context);
            }
            throw e;
        }
        queue = main;
        latencyQueue = latency;
        log.debug("opened {}{}", info.describe(), latencyId == null ? "" : ", with an in-thread latency lane");
    }

    private cl_command_queue newQueue(cl_device_id device) {
        int[] status = new int[1];
        @SuppressWarnings("deprecation") // clCreateCommandQueueWithProperties is OpenCL 2.0; we promise 1.2
        cl_command_queue q = CL.clCreateCommandQueue(context, device, profiling ? CL.CL_QUEUE_PROFILING_ENABLE : 0,
                status);
        CheckedCl.check(status[0], "clCreateCommandQueue");
        return q;
    }

    /** Whether small forwards can take the in-thread {@link Lane#LATENCY} lane. */
    public boolean hasLatencyLane() {
        return latencyQueue != null;
    }

    private cl_command_queue queue(Lane lane) {
        return lane == Lane.LATENCY && latencyQueue != null ? latencyQueue : queue;
    }

    /** Every OpenCL device on this machine, in {@code clrnn devices} order. */
    public static List<DeviceInfo> list() {
        List<DeviceInfo> all = new ArrayList<>();
        for (Located d : locateAll()) {
            all.add(d.info);
        }
        return all;
    }

    /** Opens the device a spec names; see {@link DeviceSpec} for the forms. */
    public static Device select(String spec) {
        return select(spec, false);
    }

    /** As {@link #select(String)}, with event profiling on the queue when {@code profiling}. */
    public static Device select(String spec, boolean profiling) {
        List<Located> all = locateAll();
        DeviceInfo chosen = DeviceSpec.choose(spec, all.stream().map(d -> d.info).toList());
        return new Device(all.get(chosen.index()), profiling);
    }

    public DeviceInfo info() {
        return info;
    }

    public boolean profiling() {
        return profiling;
    }

    cl_device_id id() {
        return id;
    }

    /** A read-write buffer of {@code bytes} (at least 1). */
    public ClBuffer buffer(long bytes) {
        return buffer(bytes, false);
    }

    /**
     * A read-write buffer; {@code hostMapped} asks for memory the host can map without a copy
     * (CL_MEM_ALLOC_HOST_PTR), for buffers read back through {@link #mapForReading}.
     */
    public ClBuffer buffer(long bytes, boolean hostMapped) {
        long flags = CL.CL_MEM_READ_WRITE | (hostMapped ? CL.CL_MEM_ALLOC_HOST_PTR : 0);
        return guarded("clCreateBuffer(" + bytes + " bytes)", call -> {
            int[] status = new int[1];
            cl_mem mem = CL.clCreateBuffer(context, flags, Math.max(bytes, 4), null, status);
            CheckedCl.check(status[0], call);
            return new ClBuffer(mem, bytes);
        });
    }

    /**
     * The program built from the classpath resources {@code kernels/<file>}, concatenated in order behind
     * {@code defines} (source text, typically {@code #define} lines choosing tiles and variants); built
     * on first use and cached by defines and files for the device's life.
     */
    public ClProgram program(String defines, String... files) {
        StringBuilder source = new StringBuilder(defines).append('\n');
        for (String f : files) {
            source.append(kernelSource(f)).append('\n');
        }
        return programFromSource(String.join("+", files) + " " + defines.replace('\n', ' ').trim(), source.toString());
    }

    /**
     * The program built from {@code source}, once per source text for the device's life; {@code name}
     * names it in errors and logs.
     */
    public ClProgram programFromSource(String name, String source) {
        return guarded("clBuildProgram(" + name + ")",
                call -> programs.computeIfAbsent(source, key -> build(name, source)));
    }

    /** Builds {@code source}; {@code name} names it in errors and logs. Builds run one at a time per JVM. */
    private ClProgram build(String name, String source) {
        int[] status = new int[1];
        cl_program program = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, status);
        CheckedCl.check(status[0], "clCreateProgramWithSource(" + name + ")");
        long start = System.nanoTime();
        int built;
        synchronized (SETUP) {
            // arg info lets kernels' arguments be set by name (ClKernel.arg)
            built = CL.clBuildProgram(program, devices.length, devices, "-cl-kernel-arg-info", null, null);
        }
        if (built != CL.CL_SUCCESS) {
            String buildLog = buildLog(program);
            CL.clReleaseProgram(program);
            throw new OpenClException("clBuildProgram(" + name + ")", built, buildLog);
        }
        if (log.isDebugEnabled()) {
            String buildLog = buildLog(program);
            log.debug("built {} in {} ms{}", name, (System.nanoTime() - start) / 1_000_000,
                    buildLog.isEmpty() ? "" : ":\n" + buildLog);
        }
        return new ClProgram(program, name, this);
    }

    private String buildLog(cl_program program) {
        long[] size = new long[1];
        CL.clGetProgramBuildInfo(program, id, CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] bytes = new byte[(int) Math.max(1, size[0])];
        CL.clGetProgramBuildInfo(program, id, CL.CL_PROGRAM_BUILD_LOG, bytes.length, Pointer.to(bytes), null);
        return new String(bytes, StandardCharsets.UTF_8).trim();
    }

    /** The text of {@code kernels/<file>} on the classpath. */
    public static String kernelSource(String file) {
        try (InputStream in = Device.class.getClassLoader().getResourceAsStream("kernels/" + file)) {
            if (in == null) {
                throw new IllegalStateException("kernel source kernels/" + file + " is not on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** CL_KERNEL_WORK_GROUP_SIZE of {@code kernel} on this device. */
    public long maxWorkGroupSize(ClKernel kernel) {
        return guarded("clGetKernelWorkGroupInfo", call -> kernel.maxWorkGroupSize(id));
    }

    /** Enqueues a write from a direct buffer; non-blocking, so {@code src} must stay untouched until the next wait. */
    public void write(ClBuffer dst, long dstOffsetBytes, ByteBuffer src, long bytes, Profile profile) {
        write(Lane.THROUGHPUT, dst, dstOffsetBytes, src, bytes, profile);
    }

    public void write(Lane lane, ClBuffer dst, long dstOffsetBytes, ByteBuffer src, long bytes, Profile profile) {
        boolean waits = blocks(lane, false);
        guarded(lane, "clEnqueueWriteBuffer(" + bytes + " bytes)", call -> {
            cl_event event = eventFor(profile);
            long before = enqueued[slot(lane)].get();
            CheckedCl.check(CL.clEnqueueWriteBuffer(queue(lane), dst.mem(), waits, dstOffsetBytes, bytes,
                    Pointer.to(src), 0, null, event), call);
            settled(lane, waits, before);
            return record(profile, Profile.TRANSFER, event);
        });
    }

    /**
     * Whether a transfer on {@code lane} blocks: when the caller asks, on Oclgrind, and always on the in-thread
     * latency lane. There the copy runs inside the call whether it blocks or not, and a non-blocking one only
     * adds JOCL's hand-over to its release thread (an event made, a thread woken to wait for it): in perf, those
     * wake-ups took a third of both cores' time in a loop of the lab's LSTM forwards. Blocking there took the
     * lab's LSTM from 0.027 to 0.020 ms a forward, its RNN from 0.018 to 0.010, LSTM T30 B8 H128 (whose upload
     * and read-back take this lane) from 0.228 to 0.201 (clrnn bench, alternated runs).
     */
    private boolean blocks(Lane lane, boolean blocking) {
        return blocking || blockingTransfers || (lane == Lane.LATENCY && latencyQueue != null);
    }

    /** After a transfer: one that blocked waited for everything enqueued before it; one that did not is pending. */
    private void settled(Lane lane, boolean waited, long before) {
        if (waited) {
            finished[slot(lane)].accumulateAndGet(before, Math::max);
        } else {
            enqueued(lane);
        }
    }

    /** Enqueues a read into a direct buffer; blocks when {@code blocking} (and then every earlier command is done). */
    public void read(ClBuffer src, long srcOffsetBytes, ByteBuffer dst, long bytes, boolean blocking,
            Profile profile) {
        read(Lane.THROUGHPUT, src, srcOffsetBytes, dst, bytes, blocking, profile);
    }

    public void read(Lane lane, ClBuffer src, long srcOffsetBytes, ByteBuffer dst, long bytes, boolean blocking,
            Profile profile) {
        boolean waits = blocks(lane, blocking);
        guarded(lane, "clEnqueueReadBuffer(" + bytes + " bytes)", call -> {
            cl_event event = eventFor(profile);
            long before = enqueued[slot(lane)].get();
            CheckedCl.check(CL.clEnqueueReadBuffer(queue(lane), src.mem(), waits, srcOffsetBytes, bytes, Pointer.to(dst), 0,
                    null, event), call);
            settled(lane, waits, before);
            return record(profile, Profile.TRANSFER, event);
        });
    }

    /** Enqueues a copy between two buffers on the device (or within one, the ranges apart). */
    public void copy(Lane lane, ClBuffer src, long srcOffsetBytes, ClBuffer dst, long dstOffsetBytes, long bytes,
            Profile profile) {
        if (bytes == 0) {
            return;
        }
        guarded(lane, "clEnqueueCopyBuffer(" + bytes + " bytes)", call -> {
            cl_event event = eventFor(profile);
            CheckedCl.check(CL.clEnqueueCopyBuffer(queue(lane), src.mem(), dst.mem(), srcOffsetBytes, dstOffsetBytes, bytes, 0,
                    null, event), call);
            enqueued(lane);
            return record(profile, Profile.TRANSFER, event);
        });
    }

    /** Enqueues zeros into {@code bytes} of {@code dst} from a byte offset, both multiples of 4. */
    public void zero(Lane lane, ClBuffer dst, long dstOffsetBytes, long bytes, Profile profile) {
        if (bytes == 0) {
            return;
        }
        guarded(lane, "clEnqueueFillBuffer(" + bytes + " bytes)", call -> {
            cl_event event = eventFor(profile);
            CheckedCl.check(CL.clEnqueueFillBuffer(queue(lane), dst.mem(), Pointer.to(new float[] {0f}), 4, dstOffsetBytes,
                    bytes, 0, null, event), call);
            enqueued(lane);
            return record(profile, Profile.TRANSFER, event);
        });
    }

    /**
     * Maps {@code bytes} of {@code src} for reading, blocking until every earlier command is done; on
     * a CPU device this reads the results in place instead of copying them out first. Hand the
     * mapping back with {@link #unmap} once read.
     */
    public ByteBuffer mapForReading(Lane lane, ClBuffer src, long bytes, Profile profile) {
        return guarded(lane, "clEnqueueMapBuffer(" + bytes + " bytes)", call -> {
            cl_event event = eventFor(profile);
            int[] status = new int[1];
            ByteBuffer mapped = CL.clEnqueueMapBuffer(queue(lane), src.mem(), true, CL.CL_MAP_READ, 0, bytes, 0, null,
                    event, status);
            CheckedCl.check(status[0], call);
            record(profile, Profile.TRANSFER, event);
            return mapped.order(ByteOrder.nativeOrder());
        });
    }

    /** Enqueues the release of a mapping made by {@link #mapForReading}. */
    public void unmap(Lane lane, ClBuffer buffer, ByteBuffer mapped) {
        guarded(lane, "clEnqueueUnmapMemObject", call -> {
            CheckedCl.check(CL.clEnqueueUnmapMemObject(queue(lane), buffer.mem(), mapped, 0, null, null), call);
            enqueued(lane);
            return null;
        });
    }

    /**
     * Enqueues {@code kernel}; {@code global} must already be a multiple of {@code local} in each
     * dimension (OpenCL 1.2 has no non-uniform work-groups).
     */
    public void run(ClKernel kernel, long[] global, long[] local, Profile profile, String family) {
        run(Lane.THROUGHPUT, kernel, global, local, profile, family);
    }

    public void run(Lane lane, ClKernel kernel, long[] global, long[] local, Profile profile, String family) {
        cl_event event = eventFor(profile);
        enqueue(lane, kernel, null, global, local, event, false);
        record(profile, family, event);
    }

    /**
     * Enqueues the part of {@code kernel}'s range from {@code offset} on the throughput lane and sends it to the worker
     * threads at once; {@link Running#await} waits for it.
     */
    public Running start(ClKernel kernel, long[] offset, long[] global, long[] local, Profile profile, String family) {
        cl_event event = new cl_event();
        enqueue(Lane.THROUGHPUT, kernel, offset, global, local, event, true);
        if (profile != null && profile.wantsEvents()) {
            CL.clRetainEvent(event);
            profile.add(family, event);
        }
        return new Running(event);
    }

    /** One kernel launch on {@code lane} from {@code offset} (null: 0), filling {@code event} unless null. */
    private void enqueue(Lane lane, ClKernel kernel, long[] offset, long[] global, long[] local, cl_event event,
            boolean flush) {
        for (int i = 0; i < global.length; i++) {
            if (local != null && global[i] % local[i] != 0) {
                throw new IllegalArgumentException(
                        "global size " + global[i] + " is not a multiple of local size " + local[i]);
            }
        }
        if (log.isTraceEnabled()) {
            log.trace("launch {} global {} local {}", kernel.name(), java.util.Arrays.toString(global),
                    java.util.Arrays.toString(local));
        }
        guarded(lane, "clEnqueueNDRangeKernel(" + kernel.name() + ")", call -> {
            CheckedCl.check(CL.clEnqueueNDRangeKernel(queue(lane), kernel.handle(), global.length, offset, global,
                    local, 0, null, event), call);
            enqueued(lane);
            if (flush) {
                CheckedCl.check(CL.clFlush(queue(lane)), "clFlush");
            }
            return null;
        });
    }

    /** A kernel running on the worker threads. */
    public static final class Running {
        private final cl_event event;

        private Running(cl_event event) {
            this.event = event;
        }

        /**
         * Waits for it to end: polls its status for up to {@code spinNanos} first, then sleeps. A kernel about to end
         * is better polled for than slept on: the sleeper's wake-up costs tens of microseconds (PoCL on this VM).
         */
        public void await(long spinNanos) {
            try {
                int[] status = {CL.CL_QUEUED};
                long until = System.nanoTime() + spinNanos;
                while (status[0] > CL.CL_COMPLETE && System.nanoTime() < until) {
                    CheckedCl.check(CL.clGetEventInfo(event, CL.CL_EVENT_COMMAND_EXECUTION_STATUS, Sizeof.cl_int,
                            Pointer.to(status), null), "clGetEventInfo");
                }
                CheckedCl.check(CL.clWaitForEvents(1, new cl_event[] {event}), "clWaitForEvents");
            } finally {
                CL.clReleaseEvent(event);
            }
        }
    }

    /** Waits for everything enqueued so far, on every lane. */
    public void finish() {
        finish(Lane.THROUGHPUT);
        if (latencyQueue != null) {
            finish(Lane.LATENCY);
        }
    }

    /** Waits for everything enqueued so far on one lane (the other may still be busy). */
    public void finish(Lane lane) {
        guarded(lane, "clFinish", call -> {
            finishLane(lane, call);
            return null;
        });
    }

    /**
     * Enqueues a copy of a 3-D region ({@code region}: bytes per row, rows, slices) between two buffers, each
     * read or written from its byte offset through its own row and slice pitches: one command for a strided
     * layout change (ONNX's Y of a bidirectional node from the engine's rows, say).
     */
    public void copyRect(Lane lane, ClBuffer src, long srcOffsetBytes, long srcRowPitch, long srcSlicePitch,
            ClBuffer dst, long dstOffsetBytes, long dstRowPitch, long dstSlicePitch, long[] region, Profile profile) {
        if (region[0] == 0 || region[1] == 0 || region[2] == 0) {
            return;
        }
        guarded(lane, "clEnqueueCopyBufferRect", call -> {
            cl_event event = eventFor(profile);
            CheckedCl.check(CL.clEnqueueCopyBufferRect(queue(lane), src.mem(), dst.mem(), new long[] {srcOffsetBytes, 0, 0},
                    new long[] {dstOffsetBytes, 0, 0}, region, srcRowPitch, srcSlicePitch, dstRowPitch, dstSlicePitch,
                    0, null, event), call);
            enqueued(lane);
            return record(profile, Profile.TRANSFER, event);
        });
    }

    /** Counts a command enqueued on {@code lane}, once it is in the queue. */
    private void enqueued(Lane lane) {
        enqueued[slot(lane)].incrementAndGet();
    }

    /** The counters' index of {@code lane}: the throughput queue's when there is no latency queue. */
    private int slot(Lane lane) {
        return lane == Lane.LATENCY && latencyQueue != null ? 1 : 0;
    }

    /** Waits for {@code lane}'s commands, unless a finish or blocking read already saw all of them done. */
    private void finishLane(Lane lane, String call) {
        int l = slot(lane);
        long n = enqueued[l].get();
        if (finished[l].get() >= n) {
            return;
        }
        CheckedCl.check(CL.clFinish(queue(lane)), call);
        finished[l].accumulateAndGet(n, Math::max);
    }

    /** An event for the command to fill when {@code profile} wants events, else null (no event made). */
    private static cl_event eventFor(Profile profile) {
        return profile == null || !profile.wantsEvents() ? null : new cl_event();
    }

    private Void record(Profile profile, String family, cl_event event) {
        if (event != null) {
            profile.add(family, event);
        }
        return null;
    }

    /**
     * Runs one command on {@code lane}: on the in-thread latency lane, one thread at a time. PoCL's in-thread driver
     * runs a command inside the call that enqueues it, and then the commands that waited for it; an in-order queue
     * fed by two threads at once makes one thread's command wait for the other's, and PoCL (2.10) then deadlocks
     * on its event lock, both threads stuck in the enqueue (found by clrnn serve's test: two modules on one device,
     * driven from two threads). Taking turns costs nothing: that driver runs one command at a time anyway.
     */
    private <T> T guarded(Lane lane, String call, java.util.function.Function<String, T> body) {
        if (lane != Lane.LATENCY || latencyQueue == null) {
            return guarded(call, body);
        }
        synchronized (latencyTurns) {
            return guarded(call, body);
        }
    }

    void beforeCall(String call) {
        java.util.function.Consumer<String> hook = callHook;
        if (hook != null) {
            hook.accept(call);
        }
    }

    /** Runs one OpenCL call under the read lock, after the open check and the call hook. */
    private <T> T guarded(String call, java.util.function.Function<String, T> body) {
        Lock read = lock.readLock();
        read.lock();
        try {
            ensureOpen();
            beforeCall(call);
            return body.apply(call);
        } finally {
            read.unlock();
        }
    }

    @Override
    protected void release() {
        Lock write = lock.writeLock();
        write.lock();
        try {
            programs.values().forEach(ClProgram::close);
            programs.clear();
            CL.clFinish(queue);
            CL.clReleaseCommandQueue(queue);
            if (latencyQueue != null) {
                CL.clFinish(latencyQueue);
                CL.clReleaseCommandQueue(latencyQueue);
            }
            synchronized (SETUP) {
                CL.clReleaseContext(context);
            }
        } finally {
            write.unlock();
        }
        log.debug("closed {}", info.name());
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s (%s, %s)", info.name(), info.type(), info.platform());
    }

    /** A device as enumerated; {@code twin} is its in-thread latency twin, or null. */
    private record Located(DeviceInfo info, cl_platform_id platform, cl_device_id id, cl_device_id twin) {}

    /** The device inventory, enumerated on first use; a failure (no OpenCL yet) is not remembered. */
    private static List<Located> locateAll() {
        List<Located> all = inventory;
        if (all == null) {
            synchronized (SETUP) {
                all = inventory;
                if (all == null) {
                    all = List.copyOf(enumerate());
                    inventory = all;
                }
            }
        }
        return all;
    }

    private static List<Located> enumerate() {
        List<Located> all = new ArrayList<>();
        for (cl_platform_id platform : CheckedCl.platforms()) {
            String platformName = CheckedCl.platformString(platform, CL.CL_PLATFORM_NAME);
            List<Located> here = new ArrayList<>();
            for (cl_device_id id : CheckedCl.devices(platform)) {
                here.add(new Located(describe(all.size() + here.size(), platformName, id), platform, id, null));
            }
            for (Located d : here) {
                all.add(new Located(d.info, d.platform, d.id, latencyTwin(d, here)));
            }
        }
        warnWithoutSignalChaining(all);
        return all;
    }

    /**
     * NOTE: PoCL's compiler (LLVM) installs its own SIGSEGV handler over the JVM's, which uses SIGSEGV for
     * implicit null checks and safepoints: the next such signal then kills the JVM without a word. The JDK's
     * libjsig, preloaded, keeps the JVM's handler first (signal chaining). Said once, at enumeration.
     */
    private static void warnWithoutSignalChaining(List<Located> all) {
        boolean pocl = all.stream().anyMatch(d -> d.info.platform().contains("Portable Computing Language"));
        String preload = System.getenv("LD_PRELOAD");
        if (pocl && (preload == null || !preload.contains("libjsig"))) {
            log.warn("PoCL is installed and LD_PRELOAD lacks the JDK's libjsig.so: PoCL's compiler may replace the "
                    + "JVM's SIGSEGV handler and crash it; start the JVM with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so");
        }
    }

    /**
     * PoCL's in-thread driver for the same CPU as {@code d}, when {@code d} is its multi-threaded one: PoCL
     * names them "basic-&lt;cpu&gt;" and "pthread-&lt;cpu&gt;".
     */
    private static cl_device_id latencyTwin(Located d, List<Located> platform) {
        String name = d.info.name();
        if (!d.info.isCpu() || !name.startsWith("pthread-")) {
            return null;
        }
        String twin = "basic-" + name.substring("pthread-".length());
        return platform.stream().filter(o -> o.info.isCpu() && o.info.name().equals(twin)).map(o -> o.id)
                .findFirst().orElse(null);
    }

    private static DeviceInfo describe(int index, String platform, cl_device_id id) {
        long type = CheckedCl.deviceLong(id, CL.CL_DEVICE_TYPE);
        DeviceInfo.Type t = (type & CL.CL_DEVICE_TYPE_GPU) != 0 ? DeviceInfo.Type.GPU
                : (type & CL.CL_DEVICE_TYPE_CPU) != 0 ? DeviceInfo.Type.CPU
                : (type & CL.CL_DEVICE_TYPE_ACCELERATOR) != 0 ? DeviceInfo.Type.ACCELERATOR
                : DeviceInfo.Type.OTHER;
        return new DeviceInfo(index, t,
                CheckedCl.deviceString(id, CL.CL_DEVICE_NAME),
                platform,
                CheckedCl.deviceString(id, CL.CL_DEVICE_VENDOR),
                CheckedCl.deviceString(id, CL.CL_DEVICE_VERSION),
                (int) CheckedCl.deviceLong(id, CL.CL_DEVICE_MAX_COMPUTE_UNITS),
                CheckedCl.deviceLong(id, CL.CL_DEVICE_GLOBAL_MEM_SIZE),
                CheckedCl.deviceLong(id, CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                CheckedCl.deviceLong(id, CL.CL_DEVICE_LOCAL_MEM_SIZE),
                CheckedCl.deviceLong(id, CL.CL_DEVICE_LOCAL_MEM_TYPE) == CL.CL_LOCAL,
                CheckedCl.deviceLong(id, CL.CL_DEVICE_MAX_WORK_GROUP_SIZE),
                (int) CheckedCl.deviceLong(id, CL.CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT),
                (CheckedCl.deviceLong(id, CL.CL_DEVICE_SINGLE_FP_CONFIG) & CL.CL_FP_FMA) != 0);
    }
}
