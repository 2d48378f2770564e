package io.clrnn.cli.spark;

import io.clrnn.spark.ClrnnScorer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Checks the claim that clrnn's Jackson cannot collide with Spark's: in the library jar this JVM runs clrnn from
 * (what {@code mvn install} publishes), no class refers to {@code com.fasterxml.jackson}; clrnn's JSON is its
 * relocated copy under {@code io.clrnn.internal.jackson}, and that copy is what this JVM loads for clrnn, beside
 * whatever Jackson Spark loads for itself.
 */
final class ShadedJarCheck {
    static final String SPARKS = "com/fasterxml/jackson/";
    static final String RELOCATED = "io/clrnn/internal/jackson/";

    /** What the check found, in one line each. */
    record Result(boolean ok, List<String> lines) {}

    private ShadedJarCheck() {}

    static Result run() throws IOException, ClassNotFoundException, URISyntaxException {
        Path jar = location(ClrnnScorer.class);
        List<String> lines = new ArrayList<>();
        if (!Files.isRegularFile(jar)) {
            lines.add("clrnn runs from " + jar + ", not from its jar: the relocation check needs the library jar");
            return new Result(false, lines);
        }
        int classes = 0;
        int relocated = 0;
        List<String> offenders = new ArrayList<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements();) {
                ZipEntry entry = e.nextElement();
                if (!entry.getName().endsWith(".class")) {
                    continue;
                }
                classes++;
                if (entry.getName().startsWith(RELOCATED)) {
                    relocated++;
                }
                if (refersTo(zip, entry, SPARKS)) {
                    offenders.add(entry.getName());
                }
            }
        }
        Class<?> clrnnJson = Class.forName(RELOCATED.replace('/', '.') + "databind.ObjectMapper");
        boolean ownCopy = location(clrnnJson).equals(jar);
        lines.add(String.format("library jar %s: %d classes, %d of them clrnn's relocated Jackson (%s); %d refer to %s",
                jar.getFileName(), classes, relocated, RELOCATED.replace('/', '.'), offenders.size(),
                SPARKS.replace('/', '.')));
        lines.add("clrnn's JSON loads from " + location(clrnnJson).getFileName()
                + sparkJackson().map(s -> "; Spark's Jackson from " + s).orElse(""));
        if (!offenders.isEmpty()) {
            lines.add("classes referring to Spark's Jackson: " + offenders.subList(0, Math.min(5, offenders.size())));
        }
        return new Result(offenders.isEmpty() && relocated > 0 && ownCopy, lines);
    }

    /** Whether a class file names {@code prefix} (a class in internal form) anywhere in its constant pool. */
    private static boolean refersTo(ZipFile zip, ZipEntry entry, String prefix) throws IOException {
        try (InputStream in = zip.getInputStream(entry)) {
            // Class names and descriptors are CONSTANT_Utf8 entries: modified UTF-8, plain ASCII for these names.
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1).contains(prefix);
        }
    }

    private static java.util.Optional<String> sparkJackson() {
        try {
            return java.util.Optional.of(location(Class.forName("com.fasterxml.jackson.databind.ObjectMapper"))
                    .getFileName().toString());
        } catch (ClassNotFoundException | URISyntaxException e) {
            return java.util.Optional.empty();
        }
    }

    private static Path location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
