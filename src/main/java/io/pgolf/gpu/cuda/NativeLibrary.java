package io.pgolf.gpu.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * A C library opened through Java's foreign function API (cuBLASLt, NVML): its functions as method handles, a missing
 * symbol reported as a {@link CudaUnavailableException} naming the library and what pgolf needs of it.
 *
 * @param name        the library as messages name it, e.g. "libcublasLt.so.13"
 * @param lookup      its symbols
 * @param requirement what pgolf needs, appended to a missing symbol's message (may be empty)
 */
record NativeLibrary(String name, SymbolLookup lookup, String requirement) {

    /**
     * The library {@code name} as the dynamic loader finds it; a {@link CudaUnavailableException} with
     * {@code notFound} as its message when it does not.
     */
    static NativeLibrary onLoaderPath(String name, String requirement, String notFound) {
        try {
            return new NativeLibrary(name, SymbolLookup.libraryLookup(name, Arena.global()), requirement);
        } catch (IllegalArgumentException missing) {
            throw new CudaUnavailableException(notFound, missing);
        }
    }

    /** The downcall handle of {@code symbol}, of C type {@code type}. */
    MethodHandle function(String symbol, FunctionDescriptor type) {
        MemorySegment address = lookup.find(symbol).orElseThrow(() -> new CudaUnavailableException(name
                + " has no symbol " + symbol + (requirement.isEmpty() ? "" : "; " + requirement)));
        return Linker.nativeLinker().downcallHandle(address, type);
    }

    /** Calls a function that returns a C int status; an exception in the call itself names the library. */
    int call(MethodHandle function, Object... args) {
        try {
            return (int) function.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException("a call into " + name + " failed", t);
        }
    }
}
