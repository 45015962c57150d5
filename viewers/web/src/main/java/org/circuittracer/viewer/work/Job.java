package org.circuittracer.viewer.work;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * One background job (a new graph): its state and the events it has emitted, which late subscribers receive again
 * (so a page that connects after the job began still sees all of it). Thread-safe.
 */
public final class Job {

    /** Where a job is. */
    public enum State {
        QUEUED, RUNNING, DONE, FAILED, CANCELLED;

        public boolean finished() {
            return this == DONE || this == FAILED || this == CANCELLED;
        }
    }

    /**
     * One event: {@code type} is the SSE event name (queued, phase, progress, done, failed, cancelled).
     *
     * @param data a JSON-serialisable map
     */
    public record Event(String type, Map<String, Object> data) {
    }

    private final String id;
    private final String kind;
    private final List<Event> events = new ArrayList<>();
    private final List<Consumer<Event>> subscribers = new CopyOnWriteArrayList<>();
    private volatile State state = State.QUEUED;
    private volatile boolean cancelRequested;

    Job(String id, String kind) {
        this.id = id;
        this.kind = kind;
    }

    public String id() {
        return id;
    }

    public String kind() {
        return kind;
    }

    public State state() {
        return state;
    }

    public boolean cancelRequested() {
        return cancelRequested;
    }

    /** Asks the job to stop; a running attribution stops at its next batch. */
    public void cancel() {
        cancelRequested = true;
    }

    /** The events so far. */
    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** Replays the events so far to {@code subscriber}, then sends it each new one. */
    public synchronized void subscribe(Consumer<Event> subscriber) {
        events.forEach(subscriber);
        subscribers.add(subscriber);
    }

    public void unsubscribe(Consumer<Event> subscriber) {
        subscribers.remove(subscriber);
    }

    synchronized void emit(State newState, String type, Map<String, Object> data) {
        if (state.finished()) {
            return;
        }
        state = newState;
        Event e = new Event(type, data);
        events.add(e);
        for (Consumer<Event> s : subscribers) {
            try {
                s.accept(e);
            } catch (RuntimeException ignored) {
                subscribers.remove(s); // a gone client must not stop the job
            }
        }
    }
}
