package io.pgolf.gpu.parity;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.TensorOps;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/** A backend that behaves like another except for one LayerOps or OptimizerOps method: a planted bug. */
public final class AlteredBackend implements Backend {
    /** What the altered method does instead, given the original operations and the call's arguments. */
    @FunctionalInterface
    public interface Alteration<T> {
        void run(T original, Object[] args);
    }

    private final Backend original;
    private final LayerOps layers;
    private final OptimizerOps optimizer;

    private AlteredBackend(Backend original, LayerOps layers, OptimizerOps optimizer) {
        this.original = original;
        this.layers = layers;
        this.optimizer = optimizer;
    }

    public static AlteredBackend layers(Backend original, String method, Alteration<LayerOps> alteration) {
        return new AlteredBackend(original, altered(LayerOps.class, original.layers(), method, alteration),
                original.optimizer());
    }

    public static AlteredBackend optimizer(Backend original, String method, Alteration<OptimizerOps> alteration) {
        return new AlteredBackend(original, original.layers(),
                altered(OptimizerOps.class, original.optimizer(), method, alteration));
    }

    private static <T> T altered(Class<T> type, T ops, String name, Alteration<T> alteration) {
        boolean exists = false;
        for (Method m : type.getMethods()) {
            exists |= m.getName().equals(name);
        }
        if (!exists) {
            throw new IllegalArgumentException(type.getSimpleName() + " has no method " + name);
        }
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (method.getName().equals(name)) {
                alteration.run(ops, args);
                return null;
            }
            try {
                return method.invoke(ops, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }

    @Override
    public String name() {
        return "altered " + original.name();
    }

    @Override
    public TensorOps tensors() {
        return original.tensors();
    }

    @Override
    public LayerOps layers() {
        return layers;
    }

    @Override
    public OptimizerOps optimizer() {
        return optimizer;
    }

    @Override
    public DType activationType() {
        return original.activationType();
    }

    @Override
    public void synchronize() {
        original.synchronize();
    }

    @Override
    public void close() {
        original.close();
    }
}
