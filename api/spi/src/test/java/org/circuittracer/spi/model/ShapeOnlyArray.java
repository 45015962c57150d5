package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.lang.reflect.Proxy;

/** An array that knows only its shape, equal only to itself: the SPI's tests have no engine to make real ones. */
final class ShapeOnlyArray {

    private ShapeOnlyArray() {
    }

    static NDArray of(long... shape) {
        Shape s = new Shape(shape);
        return (NDArray) Proxy.newProxyInstance(NDArray.class.getClassLoader(), new Class<?>[] {NDArray.class},
                (self, method, args) -> switch (method.getName()) {
                    case "getShape" -> s;
                    case "equals" -> self == args[0];
                    case "hashCode" -> System.identityHashCode(self);
                    case "toString" -> "NDArray" + s;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
