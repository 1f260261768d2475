package io.pgolf.data.artifact;

import io.pgolf.config.Compressor;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "code bytes" of the challenge's size rule, for a JVM program: the compressed size of pgolf's own class
 * files that running an artifact needs, plus pgolf's own configuration resources. Third-party libraries and the JDK
 * are not counted, as the reference does not count PyTorch.
 *
 * <p>The classes are those reachable from the root classes through their constant pools: every {@code io/pgolf/...}
 * class name in a class file's UTF-8 constants (class references, field and method descriptors, signatures,
 * annotations) whose class file the class loader has, transitively. They are read from the running program's class
 * path (the jar or the classes folder), concatenated in name order as (u16 name length, name, u32 length, bytes)
 * and compressed with the artifact's compressor.
 *
 * @param classes         how many class files were counted
 * @param rawBytes        their bytes and the resources', uncompressed
 * @param compressedBytes the code bytes
 */
public record CodeBytes(int classes, int resources, long rawBytes, long compressedBytes, Compressor compressor) {
    private static final Pattern PGOLF_CLASS = Pattern.compile("io/pgolf/[A-Za-z0-9_/$]+");

    /**
     * Measures the code of {@code roots} and {@code resources} as {@code loader} finds them.
     *
     * @param roots     binary class names ({@code io.pgolf.deploy.EvalCommand})
     * @param resources class-path resource names ({@code reference.conf}), each of which must exist
     */
    public static CodeBytes measure(ClassLoader loader, List<String> roots, List<String> resources, Compressor compressor) {
        Map<String, byte[]> files = new TreeMap<>();
        Deque<String> pending = new ArrayDeque<>();
        for (String root : roots) {
            String name = root.replace('.', '/') + ".class";
            if (loader.getResource(name) == null) {
                throw new IllegalArgumentException("root class " + root + " is not on the class path");
            }
            pending.add(name);
        }
        int classes = 0;
        while (!pending.isEmpty()) {
            String name = pending.pop();
            if (files.containsKey(name)) {
                continue;
            }
            byte[] bytes = read(loader, name);
            files.put(name, bytes);
            classes++;
            for (PoolEntry entry : ClassFile.of().parse(bytes).constantPool()) {
                if (entry instanceof Utf8Entry utf8) {
                    Matcher m = PGOLF_CLASS.matcher(utf8.stringValue());
                    while (m.find()) {
                        String referenced = m.group() + ".class";
                        if (!files.containsKey(referenced) && loader.getResource(referenced) != null) {
                            pending.add(referenced);
                        }
                    }
                }
            }
        }
        for (String resource : resources) {
            if (loader.getResource(resource) == null) {
                throw new IllegalArgumentException("resource " + resource + " is not on the class path");
            }
            files.put(resource, read(loader, resource));
        }
        byte[] packed = pack(files);
        return new CodeBytes(classes, resources.size(), packed.length,
                ArtifactCodec.of(compressor).compress(packed).length, compressor);
    }

    private static byte[] pack(Map<String, byte[]> files) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                byte[] name = file.getKey().getBytes(StandardCharsets.UTF_8);
                out.writeShort(name.length);
                out.write(name);
                out.writeInt(file.getValue().length);
                out.write(file.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }

    private static byte[] read(ClassLoader loader, String name) {
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " disappeared from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name + " from the class path", e);
        }
    }
}
