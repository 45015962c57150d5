package org.circuittracer.viewer.work;

/**
 * What a workbench has loaded.
 *
 * @param model      the model's name
 * @param dictionary the transcoder set (its scan)
 * @param layers     the model's layer count
 */
public record WorkbenchInfo(String model, String dictionary, int layers) {
}
