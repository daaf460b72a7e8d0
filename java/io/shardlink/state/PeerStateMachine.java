package io.shardlink.state;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Thread-safe state machine of one peer's data path (see {@link PeerState} for the legal transitions).
 * Illegal transitions throw {@link IllegalStateException} and change nothing. Listeners observe every
 * transition in order; the last {@value #HISTORY} transitions are kept for diagnostics.
 */
public final class PeerStateMachine {
    public static final int HISTORY = 32;

    /** One recorded transition. */
    public record Transition(PeerState from, PeerState to, Throwable cause, Instant at) {
        @Override
        public String toString() {
            return from + "->" + to + (cause == null ? "" : " (" + cause + ")") + " at " + at;
        }
    }

    private volatile String peer;
    private final ReentrantLock lock = new ReentrantLock();
    private final CopyOnWriteArrayList<PeerStateListener> listeners = new CopyOnWriteArrayList<>();
    private final ArrayDeque<Transition> history = new ArrayDeque<>();
    private volatile PeerState state;
    private volatile Throwable lastCause;

    public PeerStateMachine(String peer, PeerState initial) {
        this.peer = Objects.requireNonNull(peer, "peer");
        this.state = Objects.requireNonNull(initial, "initial");
    }

    public String peer() {
        return peer;
    }

    /** Names the peer once its node id is known (HELLO); until then it is named by its address. */
    public void rename(String newName) {
        this.peer = Objects.requireNonNull(newName, "peer");
    }

    public PeerState state() {
        return state;
    }

    /** The cause of the last transition that had one (kept after leaving FAILED), or null. */
    public Throwable lastCause() {
        return lastCause;
    }

    /** The last cause's message, or null. */
    public String lastCauseMessage() {
        Throwable t = lastCause;
        return t == null ? null : String.valueOf(t.getMessage() == null ? t : t.getMessage());
    }

    public void addListener(PeerStateListener l) {
        listeners.add(Objects.requireNonNull(l, "listener"));
    }

    public void removeListener(PeerStateListener l) {
        listeners.remove(l);
    }

    /** Moves to {@code to}; throws {@link IllegalStateException} if that is not legal from the current state. */
    public void transition(PeerState to, Throwable cause) {
        lock.lock();
        try {
            PeerState from = state;
            if (!from.canMoveTo(to)) {
                throw new IllegalStateException("peer " + peer + ": illegal state transition " + from + " -> " + to
                        + " (legal from " + from + ": " + from.successors() + ")"
                        + (cause == null ? "" : "; requested because: " + cause));
            }
            apply(from, to, cause);
        } finally {
            lock.unlock();
        }
    }

    public void transition(PeerState to) {
        transition(to, null);
    }

    /** FAILED with a reason given as text. */
    public void fail(String reason) {
        transition(PeerState.FAILED, new IllegalStateException(reason));
    }

    /**
     * Moves from {@code expected} to {@code to} if the machine is in {@code expected}; returns false (changing
     * nothing) if it is in another state. Still throws if {@code expected -> to} itself is illegal.
     */
    public boolean compareAndTransition(PeerState expected, PeerState to, Throwable cause) {
        if (!expected.canMoveTo(to)) {
            throw new IllegalStateException("peer " + peer + ": illegal state transition " + expected + " -> " + to);
        }
        lock.lock();
        try {
            if (state != expected) {
                return false;
            }
            apply(expected, to, cause);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Moves to {@code to} if legal from the current state; returns whether it did. */
    public boolean tryTransition(PeerState to, Throwable cause) {
        lock.lock();
        try {
            PeerState from = state;
            if (!from.canMoveTo(to)) {
                return false;
            }
            apply(from, to, cause);
            return true;
        } finally {
            lock.unlock();
        }
    }

    public List<Transition> history() {
        lock.lock();
        try {
            return List.copyOf(new ArrayList<>(history));
        } finally {
            lock.unlock();
        }
    }

    private void apply(PeerState from, PeerState to, Throwable cause) {
        state = to;
        if (cause != null) {
            lastCause = cause;
        }
        if (history.size() == HISTORY) {
            history.removeFirst();
        }
        history.addLast(new Transition(from, to, cause, Instant.now()));
        for (PeerStateListener l : listeners) {
            try {
                l.onTransition(peer, from, to, cause);
            } catch (RuntimeException e) {
                // a listener's bug must not break the transport; keep going
                System.getLogger(PeerStateMachine.class.getName()).log(System.Logger.Level.WARNING,
                        "peer " + peer + ": state listener threw on " + from + "->" + to, e);
            }
        }
    }

    @Override
    public String toString() {
        Throwable c = lastCause;
        return "PeerStateMachine{" + peer + ": " + state + (c == null ? "" : ", lastCause=" + c) + "}";
    }
}
