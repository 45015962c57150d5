package org.circuittracer.viewer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.circuittracer.viewer.annotations.AnnotationStore;
import org.circuittracer.viewer.files.ServedDirectory;
import org.circuittracer.viewer.graph.GraphStore;

/**
 * Child process of {@link AnnotationCrashTest}: saves large annotation documents in a loop, announcing each version
 * before it writes it, until it is killed (the write number {@code KillLoop} passes last is not needed: the stored
 * version says where to go on). Every version's labels all carry the version number, so a reader can tell
 * a complete document from a torn one.
 */
public final class AnnotationWriterMain {

    private AnnotationWriterMain() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String slug = args[1];
        AnnotationStore store = new AnnotationStore(new GraphStore(new ServedDirectory(dir, "graph directory")));
        long version = store.load(slug).get("version").asLong();
        while (true) {
            ObjectNode body = JsonNodeFactory.instance.objectNode();
            body.put("baseVersion", version);
            ObjectNode labels = body.putObject("labels");
            for (int i = 0; i < 40_000; i++) {
                labels.put("node_" + i, "label of version " + (version + 1) + " for node " + i);
            }
            System.out.println("writing " + (version + 1));
            System.out.flush();
            version = store.save(slug, body).version();
        }
    }
}
