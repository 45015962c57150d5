package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

/**
 * Pins what users type: each command's options (every alias), in the order picocli declares them (which the help
 * follows), with their defaults. Sharing option blocks through mixins must not rename, drop, add or re-default one;
 * a deliberate change to the command line updates this table and docs/cli.md together.
 */
class CommandOptionsTest {

    /** Per command: each option's names, space-separated, then {@code =default} where it has one. */
    private static final Map<String, List<String>> OPTIONS = table(
            entry("attribute", "-m --model", "-t --transcoders --transcoder-set --transcoder_set", "--backend",
                    "--dictionary-format", "--dtype=float32", "--plugins", "--topk", "-p --prompt", "--prompt-ids", "--chat", "--chat-file",
                    "--chat-var",
                    "--target", "--slug", "--graph-file-dir --graph_file_dir=graphs",
                    "--node-threshold --node_threshold=0.8", "--edge-threshold --edge_threshold=0.98",
                    "--strict-node-ids", "-o --graph-output-path --graph_output_path",
                    "--max-n-logits --max_n_logits=10", "--desired-logit-prob --desired_logit_prob=0.95",
                    "--max-feature-nodes --max_feature_nodes=7500", "--batch-size --batch_size=256",
                    "--head-loadings", "--qk", "--qk-links=10", "--timings",
                    "--attributor=exact", "--attributor-option", "--server", "--port=8041", "--host=127.0.0.1",
                    "--features-dir --features_dir", "--frontend", "-q --quiet", "--verbose", "-h --help",
                    "-V --version"),
            entry("batch", "--prompts", "--out", "--master", "-m --model",
                    "-t --transcoders --transcoder-set --transcoder_set", "--backend", "--dictionary-format",
                    "--dtype=float32", "--plugins", "--topk", "--attributor=exact", "--attributor-option", "--max-n-logits --max_n_logits=10",
                    "--desired-logit-prob --desired_logit_prob=0.95", "--max-feature-nodes --max_feature_nodes=7500",
                    "--batch-size --batch_size=256", "--node-threshold --node_threshold=0.8",
                    "--edge-threshold --edge_threshold=0.98", "--head-loadings", "--resume", "--prompts-per-task=1",
                    "--partitions", "-q --quiet", "--verbose", "-h --help", "-V --version"),
            entry("export", "-m --model", "-t --transcoders --transcoder-set --transcoder_set", "--backend",
                    "--dictionary-format", "--dtype=float32", "--plugins", "--topk", "--slug",
                    "--graph-file-dir --graph_file_dir=graphs", "--node-threshold --node_threshold=0.8",
                    "--edge-threshold --edge_threshold=0.98", "--strict-node-ids", "--scan", "-q --quiet", "--verbose",
                    "-h --help", "-V --version"),
            entry("qk", "--graph", "-m --model", "-t --transcoders --transcoder-set --transcoder_set", "--backend",
                    "--dictionary-format", "--dtype=float32", "--plugins", "--topk", "--layer", "--head", "--query",
                    "--key", "--top=10", "--node-threshold --node_threshold=0.8",
                    "--edge-threshold --edge_threshold=0.98", "--out", "-q --quiet", "--verbose", "-h --help",
                    "-V --version"),
            entry("intervene", "-m --model", "-t --transcoders --transcoder-set --transcoder_set", "--backend",
                    "--dictionary-format", "--dtype=float32", "--plugins", "--topk", "-p --prompt", "--prompt-ids", "--chat", "--chat-file",
                    "--chat-var",
                    "-i --intervention", "--supernodes", "--scale-supernode", "--mode=iterative",
                    "--constrained-layers", "--top-k=10", "-q --quiet", "--verbose", "-h --help", "-V --version"),
            entry("generate", "-m --model", "-t --transcoders --transcoder-set --transcoder_set", "--backend",
                    "--dictionary-format", "--dtype=float32", "--plugins", "--topk", "-p --prompt", "--prompt-ids", "--chat", "--chat-file",
                    "--chat-var",
                    "-i --intervention", "--supernodes", "--scale-supernode", "--mode=iterative",
                    "--constrained-layers", "--max-new-tokens=8", "--temperature=0", "--seed=0", "-q --quiet",
                    "--verbose", "-h --help", "-V --version"),
            // --model and --transcoders required (no demo default), then the shared LoadOptions (--dtype from it)
            entry("features", "-m --model", "-t --transcoders --transcoder-set --transcoder_set", "--backend",
                    "--dictionary-format", "--dtype=float32", "--plugins", "--topk", "--corpus",
                    "--corpus-format=auto", "--master", "--partitions", "--output-dir", "--layout=packed", "--top-k=20", "--context-before=24",
                    "--context-after=8", "--max-sequence-length=128", "--batch-size --batch_size=16",
                    "--quantile-bands=4", "--examples-per-band=4", "--output-tokens=10", "--scan", "-q --quiet",
                    "--verbose", "-h --help", "-V --version"),
            entry("bench", "-m --model", "-t --transcoders --transcoder-set --transcoder_set", "--backend",
                    "--dictionary-format", "--dtype=float32", "--plugins", "--topk", "-p --prompt", "--prompt-ids", "--chat", "--chat-file",
                    "--chat-var",
                    "--tokens", "--lanes=32", "--matmul-size=1024", "--warmups=2", "--iterations=5",
                    "--max-feature-nodes --max_feature_nodes=7500", "--batch-size --batch_size=256",
                    "--attributor=exact", "--attributor-option", "--synthetic", "--seed=1", "--work-dir", "--graphs", "--json", "-q --quiet",
                    "--verbose", "-h --help", "-V --version"),
            entry("serve", "--graph-file-dir --graph_file_dir=graphs", "--features-dir --features_dir",
                    "--host=127.0.0.1", "--port=8041", "--no-model", "--frontend", "-m --model",
                    "-t --transcoders --transcoder-set --transcoder_set", "--backend", "--dictionary-format",
                    "--dtype=float32", "--plugins", "--topk", "--attributor=exact", "--attributor-option", "-q --quiet", "--verbose",
                    "-h --help", "-V --version"),
            entry("export-onnx", "-m --model", "-o --output", "--external-data", "--force",
                    "--verify-prompt=The quick brown fox jumps over the lazy dog", "--no-verify", "--plugins",
                    "-q --quiet", "--verbose", "-h --help", "-V --version"),
            entry("plugins", "--plugins", "--verbose", "-h --help", "-V --version"));

    @Test
    void everyPinnedCommandKeepsItsOptionNamesAndDefaults() {
        Map<String, CommandLine> commands = CircuitTracerCommand.commandLine().getSubcommands();
        OPTIONS.forEach((name, expected) -> assertThat(options(commands.get(name)))
                .as("options of %s", name).containsExactlyElementsOf(expected));
    }

    @Test
    void everyCommandIsPinned() {
        Map<String, CommandLine> commands = CircuitTracerCommand.commandLine().getSubcommands();
        commands.forEach((name, command) -> {
            String primary = command.getCommandName();
            if (!primary.equals("help")) {
                assertThat(OPTIONS.keySet()).as("the options of command '%s' are pinned here (add its row)", primary)
                        .contains(primary);
            }
        });
        assertThat(commands.get("start-server")).as("start-server is serve").isSameAs(commands.get("serve"));
    }

    private static List<String> options(CommandLine command) {
        return command.getCommandSpec().options().stream()
                .map(o -> String.join(" ", o.names()) + (o.defaultValue() == null ? "" : "=" + o.defaultValue()))
                .toList();
    }

    private static Map.Entry<String, List<String>> entry(String command, String... options) {
        return Map.entry(command, List.of(options));
    }

    @SafeVarargs
    private static Map<String, List<String>> table(Map.Entry<String, List<String>>... rows) {
        Map<String, List<String>> table = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> row : rows) {
            table.put(row.getKey(), row.getValue());
        }
        return table;
    }
}
