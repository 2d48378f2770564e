package io.clrnn.engine;

import io.clrnn.device.ClBuffer;
import io.clrnn.device.Device;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * rnn_team's barrier and the protocol around it, in one place. A team's work-items meet after each phase at a count
 * in global memory (the arrivals so far, wrapping like a uint) and give up, raising a flag, when one of them does not
 * arrive in time: its thread was not running (a busy machine, or a runtime that does not run them all at once). The
 * host tells each launch where the count stands, reads the flag after the forward, and has a forward whose team gave
 * up run again with rnn_rows; after {@link #GIVE_UPS} give-ups in a row, forwards keep to rnn_rows for good.
 */
final class TeamBarrier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TeamBarrier.class);
    /** After this many teams in a row gave up waiting for each other, forwards keep to rnn_rows. */
    static final int GIVE_UPS = 3;

    private final Device device;
    /** The count and the flag, made zero on first use. */
    private ClBuffer sync;
    /** Zeros for sync, and where its flag is read back; direct, so writes and reads may be in flight. */
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
    private final ByteBuffer readBack = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
    /** Arrivals so far, as the device counts them (wrapping like a uint). */
    private int arrivals;
    /** Teams that gave up since the last one that did not. */
    private int giveUpsInARow;
    /** Whether plans take rnn_rows where they would take rnn_team: while rerunning, or for good. */
    private boolean avoided;

    TeamBarrier(Device device) {
        this.device = device;
    }

    /** The barrier a team's launch on {@code lane} binds, zero before its first launch. */
    ClBuffer buffer(Device.Lane lane) {
        if (sync == null) {
            sync = device.buffer(zeros.capacity());
            reset(lane);
        }
        return sync;
    }

    /** Where the count will stand when the next launch starts. */
    int arrivals() {
        return arrivals;
    }

    /** Counts the arrivals of a launch just enqueued; wraps as the device's uint does. */
    void arrived(int count) {
        arrivals += count;
    }

    /**
     * Enqueues the read of the flag; {@link #gaveUp} answers once a later blocking read or finish on {@code lane}
     * returned.
     */
    void readFlag(Device.Lane lane) {
        device.read(lane, sync, 0, readBack, readBack.capacity(), false, null);
    }

    /** Whether the team whose flag was read last gave up; if not, the give-ups in a row start again from none. */
    boolean gaveUp() {
        boolean gaveUp = readBack.getInt(4) != 0;
        if (!gaveUp) {
            giveUpsInARow = 0;
        }
        return gaveUp;
    }

    /** Whether plans keep to rnn_rows where they would take rnn_team: while a rerun runs, or for good. */
    boolean avoided() {
        return avoided;
    }

    /**
     * Runs {@code rerun} (the forward again, which now plans rnn_rows) after a team of {@code items} work-items
     * gave up, from a barrier made zero again. Teams that keep giving up are not tried again.
     */
    void rerunWithoutTeam(Object who, int items, Runnable rerun) {
        reset(Device.Lane.THROUGHPUT);
        arrivals = 0;
        boolean forGood = ++giveUpsInARow >= GIVE_UPS;
        if (forGood) {
            log.warn("{}: the {} work-items of rnn_team did not all run at once {} times in a row; using rnn_rows "
                    + "from now on", who, items, giveUpsInARow);
        } else {
            log.debug("{}: rnn_team gave up waiting; running the forward again with rnn_rows", who);
        }
        avoided = true;
        try {
            rerun.run();
        } finally {
            avoided = forGood;
        }
    }

    /** Zeros the count and the flag; in order on {@code lane} before the next launch. */
    private void reset(Device.Lane lane) {
        device.write(lane, sync, 0, zeros, zeros.capacity(), null);
    }

    @Override
    public void close() {
        if (sync != null) {
            sync.close();
            sync = null;
        }
    }
}
