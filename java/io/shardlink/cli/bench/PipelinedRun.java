package io.shardlink.cli.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.function.LongConsumer;

/**
 * Keeps {@code depth} requests in flight: {@code warm} unmeasured ones, then {@code count} measured ones. The
 * wall time runs from the first measured request (after the warm-up has drained) to the last answer; each
 * measured request's latency goes to {@code latencies}. Shared by {@code bench --read-depth N} and
 * {@code rawbench --read-depth N}.
 */
public final class PipelinedRun {
    /** The wall time, and the CPU over the measured requests (null without {@code cpu}). */
    public record Result(long wallNanos, CpuMeter.Usage usage) {}

    private PipelinedRun() {}

    /**
     * @param request starts request {@code i} (negative: warm-up); completes with its latency in nanoseconds, or
     *                fails (the run then stops and throws the cause)
     */
    public static Result run(int depth, int warm, int count, boolean cpu, IntFunction<CompletableFuture<Long>> request,
                             LongConsumer latencies) throws Exception {
        Semaphore slots = new Semaphore(depth);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long t0 = 0;
        CpuMeter meter = null;
        for (int i = -warm; i < count && failure.get() == null; i++) {
            if (i == 0) {
                slots.acquire(depth); // warm-up drained: measure from here
                slots.release(depth);
                meter = cpu ? CpuMeter.start() : null;
                t0 = System.nanoTime();
            }
            boolean measured = i >= 0;
            slots.acquire();
            CompletableFuture<Long> f;
            try {
                f = request.apply(i);
            } catch (RuntimeException e) {
                slots.release();
                throw e;
            }
            f.whenComplete((t, e) -> {
                try {
                    if (e != null) {
                        failure.compareAndSet(null, e instanceof CompletionException && e.getCause() != null
                                ? e.getCause() : e);
                    } else if (measured) {
                        synchronized (latencies) {
                            latencies.accept(t);
                        }
                    }
                } finally {
                    slots.release();
                }
            });
        }
        if (!slots.tryAcquire(depth, 60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("requests did not complete within 60 s");
        }
        long wall = System.nanoTime() - t0;
        CpuMeter.Usage usage = meter == null ? null : meter.perOp(count);
        Throwable f = failure.get();
        if (f instanceof Exception ex) {
            throw ex;
        } else if (f != null) {
            throw new IllegalStateException(f);
        }
        return new Result(wall, usage);
    }
}
