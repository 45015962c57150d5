package org.circuittracer.onnx.export;

/**
 * Node names of one architecture family, as {@code torch.onnx} derives them from Hugging Face module paths. The
 * backend's site maps ({@code sitemaps/<family>.json}) find hook sites and weights by these names.
 *
 * @param modelPrefix    {@code /model} or {@code /transformer}
 * @param layerPrefix    the block path before the layer index, e.g. {@code /model/layers.}
 * @param ln1            the pre-attention norm's module name
 * @param ln1Post        the post-attention norm (Gemma-2), or null
 * @param ln2            the pre-MLP norm
 * @param ln2Post        the post-MLP norm (Gemma-2), or null
 * @param attention      the attention module
 * @param outputProjection the attention output projection inside it
 * @param fusedQkv       whether queries, keys and values come from one projection ({@code c_attn}) split in three
 * @param finalNormName  the final norm's module name
 */
record Naming(String modelPrefix, String layerPrefix, String ln1, String ln1Post, String ln2, String ln2Post,
              String attention, String outputProjection, boolean fusedQkv, String finalNormName) {

    static Naming of(String architecture) {
        return switch (architecture) {
            case "GPT2LMHeadModel" -> new Naming("/transformer", "/transformer/h.", "ln_1", null, "ln_2", null,
                    "attn", "c_proj", true, "ln_f");
            case "Gemma2ForCausalLM", "Gemma3ForCausalLM", "Gemma3ForConditionalGeneration" -> new Naming("/model", "/model/layers.", "input_layernorm",
                    "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm",
                    "self_attn", "o_proj", false, "norm");
            default -> new Naming("/model", "/model/layers.", "input_layernorm", null, "post_attention_layernorm",
                    null, "self_attn", "o_proj", false, "norm");
        };
    }

    String block(int layer) {
        return layerPrefix + layer;
    }

    String embed() {
        return modelPrefix + (fusedQkv ? "/wte/Gather" : "/embed_tokens/Gather");
    }

    String tokenTable() {
        return modelPrefix.substring(1) + (fusedQkv ? ".wte.weight" : ".embed_tokens.weight");
    }

    String embedScale() {
        return modelPrefix + "/embed_scale/Mul";
    }

    String positionEmbed() {
        return modelPrefix + "/wpe/Gather";
    }

    String positionTable() {
        return modelPrefix.substring(1) + ".wpe.weight";
    }

    String embedSum() {
        return modelPrefix + "/Add";
    }

    String finalNorm() {
        return modelPrefix + "/" + finalNormName;
    }
}
