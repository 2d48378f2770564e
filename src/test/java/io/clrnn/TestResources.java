package io.clrnn;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Test resources (fixtures, corpora) as real files, whether the tests run from Maven's folders or from the
 * one-jar test bundle (scripts/test-bundle), where they are entries of the jar: those are extracted once per
 * JVM into a temporary folder, since the CLI under test opens paths on the default file system.
 */
public final class TestResources {
    private static Path extracted;

    private TestResources() {}

    /**
     * Whether the class {@code name} is on this classpath, asked without loading it: the test bundle leaves out the
     * oracles too large to carry (ONNX Runtime, Spark), and the tests that need them say so there.
     */
    public static boolean onClasspath(String name) {
        try {
            Class.forName(name, false, TestResources.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The file or folder {@code name} (e.g. "fixtures/manifest.json", "torch"). */
    public static Path path(String name) {
        URL url = TestResources.class.getResource("/" + name);
        if (url == null) {
            throw new IllegalStateException("no test resource " + name);
        }
        try {
            if (!url.getProtocol().equals("jar")) {
                return Path.of(url.toURI());
            }
            return extractedRoot(url).resolve(name);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static synchronized Path extractedRoot(URL inJar) throws IOException, URISyntaxException {
        if (extracted != null) {
            return extracted;
        }
        String spec = inJar.getPath(); // file:/path/bundle.jar!/fixtures/...
        Path jar = Path.of(new java.net.URI(spec.substring(0, spec.indexOf("!/"))));
        Path root = Files.createTempDirectory("clrnn-test-resources");
        try (JarFile file = new JarFile(jar.toFile())) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                if (e.isDirectory() || e.getName().endsWith(".class") || e.getName().startsWith("META-INF")) {
                    continue;
                }
                Path target = root.resolve(e.getName()).normalize();
                if (!target.startsWith(root)) {
                    continue;
                }
                Files.createDirectories(target.getParent());
                try (InputStream in = file.getInputStream(e)) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        extracted = root;
        return root;
    }
}
