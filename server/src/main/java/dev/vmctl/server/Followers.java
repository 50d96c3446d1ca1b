package dev.vmctl.server;

import io.javalin.http.HttpResponseException;

import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * How many long-lived readers the server holds at once: event-stream clients and {@code console?follow=true}
 * readers, {@link #MAX} each ({@code -Dvmctl.maxFollowers}, default 64). One more is answered 429 naming the limit;
 * each stream gives its place back when its client goes.
 */
final class Followers {
    static final int MAX = Integer.getInteger("vmctl.maxFollowers", 64);

    private final String what;
    private final Semaphore places = new Semaphore(MAX);

    Followers(String what) {
        this.what = what;
    }

    /** Takes a place, or throws the 429. */
    void enter() {
        if (!places.tryAcquire()) {
            throw new HttpResponseException(429, "too many " + what + " (" + MAX + " at once)",
                    Map.of("detail", "allowed: at most " + MAX + " " + what + " per server (-Dvmctl.maxFollowers); try again when one has ended"));
        }
    }

    void leave() {
        places.release();
    }

    int inUse() {
        return MAX - places.availablePermits();
    }
}
