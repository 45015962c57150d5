package org.circuittracer.viewer.work;

/**
 * What a workbench has loaded.
 *
 * @param model        the model's name
 * @param dictionary   the transcoder set (its scan)
 * @param layers       the model's layer count
 * @param chatTemplate whether new graphs can be made from a chat (the model has a chat template), so the page offers
 *                     it
 */
public record WorkbenchInfo(String model, String dictionary, int layers, boolean chatTemplate) {

    /** A model without a chat template. */
    public WorkbenchInfo(String model, String dictionary, int layers) {
        this(model, dictionary, layers, false);
    }

    /** This, saying whether the model has a chat template. */
    public WorkbenchInfo withChatTemplate(boolean has) {
        return new WorkbenchInfo(model, dictionary, layers, has);
    }
}
