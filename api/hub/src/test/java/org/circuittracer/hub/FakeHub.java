package org.circuittracer.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Builds a Hugging Face cache as huggingface_hub does: content in {@code blobs/SHA256}, snapshot files as relative
 * symbolic links to it, {@code refs/NAME} holding a commit hash.
 */
final class FakeHub {

    private FakeHub() {
    }

    /** Adds {@code path} with {@code content} to snapshot {@code commit} of {@code repoId}. */
    static Path file(Path root, String repoId, String commit, String path, String content) throws IOException {
        Path repo = root.resolve(new RepoRef(repoId, null, null).cacheFolderName());
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        Path blob = repo.resolve("blobs").resolve(sha256(bytes));
        Files.createDirectories(blob.getParent());
        Files.write(blob, bytes);
        Path link = repo.resolve("snapshots").resolve(commit).resolve(path);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(blob));
        return link;
    }

    /** Points {@code refs/name} of {@code repoId} at {@code commit} (huggingface_hub writes no newline). */
    static void ref(Path root, String repoId, String name, String commit) throws IOException {
        Path ref = root.resolve(new RepoRef(repoId, null, null).cacheFolderName()).resolve("refs").resolve(name);
        Files.createDirectories(ref.getParent());
        Files.writeString(ref, commit);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
