package org.circuittracer.transcoders.reference;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.circuittracer.transcoders.common.ReferenceConfig;

/**
 * TopK sets whose {@code config.yaml} has {@code activation: topk} but no {@code k}, and whose k circuit-tracer 0.5
 * hard-codes ({@code load_transcoder_set} in {@code circuit_tracer/transcoder/single_layer_transcoder.py}: k = 128
 * when the scan is {@code facebook/crv-8b-instruct-transcoders}, with a warning that k belongs in the config).
 *
 * <p>The reference compares the scan exactly; we also accept the scan with a sub-folder or revision
 * ({@code repo//sub@rev}, what its loader writes for such references), a {@code model_name} naming the repository,
 * and a directory that is the repository's snapshot in the Hugging Face cache ({@code models--facebook--crv-…}) or its
 * entry in circuit-tracer's own cache ({@code …/facebook/crv-8b-instruct-transcoders[@rev]}).
 */
final class KnownTopK {

    /** Repository id → k. */
    static final Map<String, Integer> K_BY_REPOSITORY = Map.of("facebook/crv-8b-instruct-transcoders", 128);

    private KnownTopK() {
    }

    /** The repository of {@code K_BY_REPOSITORY} that the config or the directory names, if any. */
    static Optional<String> repository(ReferenceConfig config, Path directory) {
        for (String repo : K_BY_REPOSITORY.keySet()) {
            if (config.scan().map(KnownTopK::repositoryOf).filter(repo::equals).isPresent()
                    || config.modelName().map(KnownTopK::repositoryOf).filter(repo::equals).isPresent()
                    || inDirectory(repo, directory)) {
                return Optional.of(repo);
            }
        }
        return Optional.empty();
    }

    /** The k of the repository that the config or the directory names. */
    static OptionalInt k(ReferenceConfig config, Path directory) {
        return repository(config, directory).map(r -> OptionalInt.of(K_BY_REPOSITORY.get(r))).orElse(OptionalInt.empty());
    }

    /** {@code org/repo} of a scan {@code org/repo[//sub][@revision]}. */
    static String repositoryOf(String scan) {
        String s = scan;
        int at = s.indexOf('@');
        if (at >= 0) {
            s = s.substring(0, at);
        }
        int sub = s.indexOf("//");
        if (sub >= 0) {
            s = s.substring(0, sub);
        }
        return s;
    }

    private static boolean inDirectory(String repo, Path directory) {
        String hfCacheFolder = "models--" + repo.replace("/", "--");
        Path absolute = directory.toAbsolutePath().normalize();
        for (Path part : absolute) {
            if (part.toString().equals(hfCacheFolder)) {
                return true;
            }
        }
        // circuit-tracer's cache: CACHE/org/repo or CACHE/org/repo@revision
        int n = absolute.getNameCount();
        if (n >= 2) {
            String last = absolute.getName(n - 1).toString();
            int at = last.indexOf('@');
            String name = at >= 0 ? last.substring(0, at) : last;
            return (absolute.getName(n - 2) + "/" + name).equals(repo);
        }
        return false;
    }
}
