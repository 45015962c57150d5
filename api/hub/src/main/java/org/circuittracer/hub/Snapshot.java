package org.circuittracer.hub;

import java.nio.file.Path;

/**
 * A reference found in the local cache.
 *
 * @param ref       what was looked up
 * @param commit    the commit hash of the cached snapshot
 * @param directory the snapshot directory, {@code CACHE/models--ORG--NAME/snapshots/COMMIT}
 * @param path      what {@code ref} names in it: {@code directory}, or the file or folder {@code ref.path()}
 *                  (snapshot files are usually symbolic links into {@code blobs/}; they are read through them)
 */
public record Snapshot(RepoRef ref, String commit, Path directory, Path path) {
}
