package io.clrnn.engine;

import io.clrnn.device.Profile;

/** Host time per phase into a profile; nothing at all (not even a clock read) when there is none. */
final class Timer {
    private Timer() {}

    static long start(Profile profile) {
        return profile == null ? 0 : System.nanoTime();
    }

    /** Adds the time since {@code since} to {@code phase}; returns now, the start of the next phase. */
    static long lap(Profile profile, Profile.Host phase, long since) {
        if (profile == null) {
            return 0;
        }
        long now = System.nanoTime();
        profile.addHost(phase, now - since);
        return now;
    }

    static void stop(Profile profile, Profile.Host phase, long since) {
        lap(profile, phase, since);
    }
}
