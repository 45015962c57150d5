package org.circuittracer.transcoders.reference;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.circuittracer.transcoders.common.Transcoders;

/** What the two reference formats share: directory checks, {@code config.yaml}, {@code model_kind} dispatch. */
abstract class ReferenceProvider implements DictionaryFormatProvider {

    /** The {@code model_kind} this provider reads. */
    abstract ModelKind kind();

    /** Whether this format reads a directory whose config lists {@code transcoders} (empty: the standard names). */
    abstract boolean readsListedFiles(List<String> transcoders);

    /** Reads the layer files of a directory whose config has been read and has the right kind. */
    abstract SparseDictionary open(DictionarySource source, ReferenceConfig config, ReferenceOptions options);

    /**
     * Whether this provider claims directories with a {@code config.yaml} that has none of our {@code model_kind}s
     * but marks another tool's checkpoint ({@link ForeignCheckpoints}), to refuse them clearly. Exactly one does.
     */
    abstract boolean claimsForeignCheckpoints();

    @Override
    public final String name() {
        return kind().formatName();
    }

    /**
     * A {@code config.yaml} with this provider's {@code model_kind} (and files this format reads), or, for
     * {@link #claimsForeignCheckpoints()}, one without a reference {@code model_kind} beside another tool's checkpoint
     * (EleutherAI clt-training), which {@link #create} then refuses as an unsupported format.
     */
    @Override
    public final Recognition recognize(Path directory) {
        Optional<ReferenceConfig.Peek> peek = ReferenceConfig.peek(directory);
        if (peek.isPresent() && ModelKind.fromYamlName(peek.get().modelKind()).isPresent()) {
            String kind = peek.get().modelKind();
            if (!kind.equals(kind().yamlName())) {
                return Recognition.none(ReferenceConfig.FILE_NAME + " has model_kind: " + kind);
            }
            return readsListedFiles(peek.get().transcoders())
                    ? Recognition.certain(ReferenceConfig.FILE_NAME + " has model_kind: " + kind)
                    : Recognition.none(ReferenceConfig.FILE_NAME + " lists files this format does not read");
        }
        if (claimsForeignCheckpoints() && Files.isRegularFile(directory.resolve(ReferenceConfig.FILE_NAME))
                && ForeignCheckpoints.evidence(directory).isPresent()) {
            // claimed so that opening refuses it with a message naming the other tool
            return Recognition.possible(ReferenceConfig.FILE_NAME + " beside another tool's checkpoint");
        }
        return Recognition.none(Files.isRegularFile(directory.resolve(ReferenceConfig.FILE_NAME))
                ? ReferenceConfig.FILE_NAME + " has no model_kind this format reads" : "no " + ReferenceConfig.FILE_NAME);
    }

    @Override
    public final SparseDictionary create(DictionarySource source) {
        Path directory = source.directory();
        if (!Files.isDirectory(directory)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The dictionary directory " + directory
                    + (Files.exists(directory) ? " is a file, not a directory." : " does not exist."));
        }
        ReferenceOptions options = ReferenceOptions.of(source, name());
        ForeignCheckpoints.refuse(directory);
        ReferenceConfig config = ReferenceConfig.read(directory);
        if (config.modelKind() != kind()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, directory.resolve(ReferenceConfig.FILE_NAME)
                    + " has model_kind: " + config.modelKind().yamlName() + "; read it with the '"
                    + config.modelKind().formatName() + "' format instead of '" + name() + "'.");
        }
        return open(source, config, options);
    }

    /**
     * {@code scan} from the config, else the directory's absolute, normalised path (the reference's default for local
     * sets; see {@link Transcoders#localScan}).
     */
    static String scan(DictionarySource source, ReferenceConfig config) {
        return config.scan().orElseGet(() -> Transcoders.localScan(source.directory()));
    }

    /** Closes what a failed open had opened, keeping the original failure first. */
    static void closeAll(List<AutoCloseable> opened, RuntimeException failure) {
        for (AutoCloseable resource : opened) {
            try {
                resource.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
    }
}
