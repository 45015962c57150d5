package org.circuittracer.dashboards;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The binary form of {@link PartialDashboards}: a header (magic, version, options, counts, layer widths), then per
 * layer its fired features, each with its counts, its activation sample in key order and its examples best first.
 * Sorted collections make the bytes canonical: equal states, equal bytes, whatever order built them.
 */
final class PartialCodec {

    private static final int MAGIC = 0x43544450; // "CTDP"
    private static final int VERSION = 1;

    private PartialCodec() {
    }

    static byte[] write(PartialDashboards partial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            writeOptions(out, partial.options());
            out.writeLong(partial.documents());
            out.writeLong(partial.sequences());
            out.writeLong(partial.tokens());
            FeatureState[][] states = partial.states();
            out.writeInt(states.length);
            for (FeatureState[] layer : states) {
                out.writeInt(layer.length);
                int fired = 0;
                for (FeatureState s : layer) {
                    fired += s == null ? 0 : 1;
                }
                out.writeInt(fired);
                for (int f = 0; f < layer.length; f++) {
                    if (layer[f] != null) {
                        out.writeInt(f);
                        writeState(out, layer[f]);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    static PartialDashboards read(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readInt() != MAGIC) {
                throw malformed("they do not start as partial dashboards do");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION, "Partial dashboards of "
                        + "format version " + version + " cannot be read by this version (" + VERSION + "). Compute "
                        + "all parts with the same version of circuit-tracer.");
            }
            DashboardOptions options = readOptions(in);
            long documents = in.readLong();
            long sequences = in.readLong();
            long tokens = in.readLong();
            FeatureState[][] states = new FeatureState[count(in.readInt())][];
            for (int l = 0; l < states.length; l++) {
                states[l] = new FeatureState[count(in.readInt())];
                int fired = count(in.readInt());
                for (int i = 0; i < fired; i++) {
                    int f = in.readInt();
                    if (f < 0 || f >= states[l].length) {
                        throw malformed("feature " + f + " is outside layer " + l);
                    }
                    states[l][f] = readState(in, options);
                }
            }
            if (in.available() > 0) {
                throw malformed("bytes follow the last feature");
            }
            return new PartialDashboards(options, states, documents, sequences, tokens);
        } catch (IOException e) {
            throw malformed("they end early (" + e + ")");
        }
    }

    private static void writeOptions(DataOutputStream out, DashboardOptions o) throws IOException {
        for (int v : new int[] {o.topExamples(), o.contextBefore(), o.contextAfter(), o.maxSequenceLength(),
                o.batchSize(), o.quantileBands(), o.examplesPerBand(), o.quantileSampleSize(), o.histogramBins(),
                o.outputTokens()}) {
            out.writeInt(v);
        }
        out.writeBoolean(o.scan() != null);
        if (o.scan() != null) {
            out.writeUTF(o.scan());
        }
    }

    private static DashboardOptions readOptions(DataInputStream in) throws IOException {
        int[] v = new int[10];
        for (int i = 0; i < v.length; i++) {
            v[i] = in.readInt();
        }
        String scan = in.readBoolean() ? in.readUTF() : null;
        return new DashboardOptions(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], scan);
    }

    private static void writeState(DataOutputStream out, FeatureState s) throws IOException {
        out.writeLong(s.count);
        out.writeFloat(s.min);
        out.writeFloat(s.max);
        out.writeInt(s.values.size());
        IOException[] failed = new IOException[1];
        s.values.forEachSorted((priority, sequence, position, value) -> {
            try {
                out.writeLong(priority);
                out.writeLong(sequence);
                out.writeInt(position);
                out.writeFloat(value);
            } catch (IOException e) {
                failed[0] = e;
            }
        });
        if (failed[0] != null) {
            throw failed[0];
        }
        writeCandidates(out, s.top.sorted());
        if (s.band != null) {
            writeCandidates(out, s.band.sorted());
        }
    }

    private static FeatureState readState(DataInputStream in, DashboardOptions options) throws IOException {
        FeatureState s = new FeatureState(options);
        s.count = in.readLong();
        s.min = in.readFloat();
        s.max = in.readFloat();
        int n = in.readInt();
        if (n < 0 || n > s.values.capacity()) {
            throw malformed("a feature keeps " + n + " sampled activations, more than the options allow");
        }
        for (int i = 0; i < n; i++) {
            s.values.offer(in.readLong(), in.readLong(), in.readInt(), in.readFloat());
        }
        readCandidates(in, s.top);
        if (s.band != null) {
            readCandidates(in, s.band);
        }
        return s;
    }

    private static void writeCandidates(DataOutputStream out, List<ExampleCandidate> candidates) throws IOException {
        out.writeInt(candidates.size());
        for (ExampleCandidate c : candidates) {
            out.writeFloat(c.value);
            out.writeLong(c.sequence);
            out.writeInt(c.position);
            out.writeLong(c.priority);
            out.writeInt(c.peakIndex);
            out.writeInt(c.tokenIds.length);
            for (int i = 0; i < c.tokenIds.length; i++) {
                out.writeInt(c.tokenIds[i]);
                out.writeFloat(c.activations[i]);
            }
        }
    }

    private static void readCandidates(DataInputStream in, BoundedHeap<ExampleCandidate> heap) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > heap.capacity()) {
            throw malformed("a feature keeps " + n + " examples, more than the options allow");
        }
        for (int i = 0; i < n; i++) {
            float value = in.readFloat();
            long sequence = in.readLong();
            int position = in.readInt();
            long priority = in.readLong();
            int peak = in.readInt();
            int length = in.readInt();
            if (length < 0 || length > 1 << 20) {
                throw malformed("an example window of " + length + " tokens");
            }
            int[] ids = new int[length];
            float[] acts = new float[length];
            for (int t = 0; t < length; t++) {
                ids[t] = in.readInt();
                acts[t] = in.readFloat();
            }
            heap.offer(new ExampleCandidate(value, sequence, position, priority, ids, acts, peak));
        }
    }

    private static int count(int n) {
        if (n < 0) {
            throw malformed("a negative count (" + n + ")");
        }
        return n;
    }

    private static CircuitTracerException malformed(String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "These bytes are not partial feature "
                + "dashboards: " + problem + ". Pass what PartialDashboards.toBytes() wrote, unchanged.");
    }
}
