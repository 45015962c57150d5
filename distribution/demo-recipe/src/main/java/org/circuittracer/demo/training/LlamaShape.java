package org.circuittracer.demo.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The hyper-parameters of the demo's Llama-style model: RMSNorm, rotary embeddings, SiLU-gated MLP, untied
 * unembedding. Written as the {@code config.json} of a {@code LlamaForCausalLM}.
 */
public record LlamaShape(int vocabularySize, int hidden, int layers, int heads, int mlpWidth, int maxPositions,
                         double ropeTheta, float rmsNormEps, int bosId, int eosId, int padId) {

    public LlamaShape {
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
        }
        if ((hidden / heads) % 2 != 0) {
            throw new IllegalArgumentException("head dimension must be even for rotary embeddings");
        }
    }

    public int headDim() {
        return hidden / heads;
    }

    /** Writes {@code config.json} and {@code generation_config.json} into {@code directory}. */
    public void writeConfig(Path directory) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", vocabularySize);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", mlpWidth);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", heads);
        c.put("head_dim", headDim());
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", maxPositions);
        c.put("rms_norm_eps", rmsNormEps);
        c.put("rope_theta", ropeTheta);
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("bos_token_id", bosId);
        c.put("eos_token_id", eosId);
        c.put("pad_token_id", padId);
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", "float16");

        ObjectNode g = json.createObjectNode();
        g.put("bos_token_id", bosId);
        g.put("eos_token_id", eosId);
        g.put("pad_token_id", padId);
        g.put("do_sample", false);
        g.put("max_new_tokens", 16);
        try {
            Files.writeString(directory.resolve("config.json"), json.writeValueAsString(c) + "\n");
            Files.writeString(directory.resolve("generation_config.json"), json.writeValueAsString(g) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
