package org.circuittracer.backend.onnx.graph;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.HookSite;

/**
 * ONNX Runtime sessions of one model: the plain graph, and one graph per {@link HookSignature} rewritten by
 * {@link GraphSurgery}, created on first use and kept in a small least-recently-used cache (each session holds its own
 * copy of the weights). Thread-safe: ONNX Runtime sessions may run concurrently.
 */
public final class Sessions implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Sessions.class.getName());
    /** Stack of the thread that initialises ONNX Runtime and creates sessions (see {@link #onLargeStack}). */
    static final long LOADER_STACK_BYTES = 1L << 30;
    /** Memory the cached hooked graphs' weight copies may take together. */
    static final long CACHE_BYTES = 2L << 30;

    private final OnnxModelFile file;
    private final Map<HookSite, String> tensors;
    private final Device device;
    private final int threads;
    private final OrtEnvironment environment;
    private final Map<HookSignature, Entry> cache = new LinkedHashMap<>(16, 0.75f, true);
    private final int cacheSize;
    private boolean closed;

    /** Where sessions run. */
    public enum Device {
        CPU,
        CUDA
    }

    /**
     * A session in use: close it when the run is done (an evicted session is closed once no run uses it).
     *
     * @param session  the session
     * @param captures (site, step) to output name
     */
    public record Lease(OrtSession session, Map<GraphSurgery.StepId, String> captures, Entry entry, Sessions owner)
            implements AutoCloseable {
        @Override
        public void close() {
            owner.release(entry);
        }
    }

    private static final class Entry {
        final OrtSession session;
        final Map<GraphSurgery.StepId, String> captures;
        int users;
        boolean evicted;

        Entry(OrtSession session, Map<GraphSurgery.StepId, String> captures) {
            this.session = session;
            this.captures = captures;
        }
    }

    /**
     * @param threads intra-op threads (0: ONNX Runtime's default, one per core)
     */
    public Sessions(OnnxModelFile file, Map<HookSite, String> tensors, Device device, int threads) {
        this.file = file;
        this.tensors = Map.copyOf(tensors);
        this.device = device;
        this.threads = threads;
        this.environment = onLargeStack(OrtEnvironment::getEnvironment);
        // every session holds its own copy of the weights: keep few hooked graphs of a large model, many of a small one
        this.cacheSize = (int) Math.max(2, Math.min(64, CACHE_BYTES / Math.max(1, file.weightBytes())));
    }

    /**
     * The device sessions would run on for a request: CUDA when asked for or, with {@code auto}, when ONNX Runtime's
     * CUDA execution provider is present; otherwise the CPU, with a log line saying why.
     *
     * @throws CircuitTracerException MISSING_CAPABILITY when CUDA is asked for and the provider is absent
     */
    public static Device choose(String requested) {
        boolean cuda = onLargeStack(() -> OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA));
        if (requested.equals("cpu")) {
            return Device.CPU;
        }
        if (requested.equals("auto")) {
            if (!cuda) {
                LOG.log(Level.INFO, "ONNX Runtime's CUDA execution provider is not available (CPU build of "
                        + "onnxruntime, or no CUDA); running on the CPU.");
            }
            return cuda ? Device.CUDA : Device.CPU;
        }
        if (!cuda) {
            throw new CircuitTracerException(StandardErrorCode.MISSING_CAPABILITY, "backend 'onnx' does not support "
                    + "CUDA here (running on an NVIDIA GPU; needed for device " + requested + "): ONNX Runtime's CUDA "
                    + "execution provider is not available. Build with -Dcuda (onnxruntime_gpu) on a machine with "
                    + "CUDA and cuDNN, or use device auto or cpu.");
        }
        return Device.CUDA;
    }

    public Device device() {
        return device;
    }

    public OrtEnvironment environment() {
        return environment;
    }

    /** The session for {@code signature}, created (and the least recently used hooked one evicted) if needed. */
    public synchronized Lease get(HookSignature signature) {
        if (closed) {
            throw new IllegalStateException("the model is closed");
        }
        Entry entry = cache.get(signature);
        if (entry == null) {
            GraphSurgery.Result hooked = GraphSurgery.apply(file.model(), tensors, signature);
            byte[] bytes = hooked.model().toByteArray();
            boolean plain = signature.sites().isEmpty();
            entry = new Entry(onLargeStack(() -> create(bytes, plain)), hooked.captures());
            cache.put(signature, entry);
            if (cache.size() > cacheSize) {
                var it = cache.entrySet().iterator();
                while (it.hasNext()) {
                    var oldest = it.next();
                    if (!oldest.getKey().sites().isEmpty() && oldest.getValue() != entry) {
                        it.remove();
                        oldest.getValue().evicted = true;
                        if (oldest.getValue().users == 0) {
                            close(oldest.getValue());
                        }
                        break;
                    }
                }
            }
        }
        entry.users++;
        return new Lease(entry.session, entry.captures, entry, this);
    }

    private synchronized void release(Entry entry) {
        entry.users--;
        if ((entry.evicted || closed) && entry.users == 0) {
            close(entry);
        }
    }

    /**
     * Runs {@code work} on a thread of its own with a large stack. ONNX Runtime's native initialisation and graph
     * loading use more stack than the usual 1 MB of a Java thread (a SIGSEGV that kills the JVM, seen on the main
     * thread when the environment is created and when graphs of a few hundred nodes in a row are resolved). Only the
     * pages touched are committed.
     */
    static <T> T onLargeStack(java.util.function.Supplier<T> work) {
        Object[] result = new Object[1];
        RuntimeException[] failure = new RuntimeException[1];
        Thread thread = new Thread(null, () -> {
            try {
                result[0] = work.get();
            } catch (RuntimeException e) {
                failure[0] = e;
            }
        }, "onnx-runtime-loader", LOADER_STACK_BYTES);
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CircuitTracerException(StandardErrorCode.CANCELLED, "Interrupted while ONNX Runtime loaded.", e);
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        @SuppressWarnings("unchecked")
        T value = (T) result[0];
        return value;
    }

    private OrtSession create(byte[] model, boolean plain) {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            // hooked graphs are made often and hooks block most fusions: optimise them less, so they load fast
            options.setOptimizationLevel(plain ? OrtSession.SessionOptions.OptLevel.ALL_OPT
                    : OrtSession.SessionOptions.OptLevel.BASIC_OPT);
            if (threads > 0) {
                options.setIntraOpNumThreads(threads);
            }
            // ONNX Runtime's idle threads spin by default; the VJP and the caller's DJL work share these cores
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            if (file.hasExternalData()) {
                // the graph comes from memory: tell ONNX Runtime where model.onnx_data lies
                options.addConfigEntry("session.model_external_initializers_file_folder_path",
                        file.directory().toAbsolutePath().toString());
            }
            if (device == Device.CUDA) {
                options.addCUDA(0);
            }
            return environment.createSession(model, options);
        } catch (OrtException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "ONNX Runtime cannot load "
                    + file.directory().resolve(OnnxModelFile.FILE) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        cache.values().stream().filter(e -> e.users == 0).forEach(Sessions::close);
        cache.clear();
    }

    private static void close(Entry entry) {
        try {
            entry.session.close();
        } catch (OrtException e) {
            LOG.log(Level.WARNING, "closing an ONNX Runtime session failed", e);
        }
    }
}
