package io.clrnn;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.net.URL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packages' layering, read from the compiled library and CLI: every arrow points down. The ground floor
 * ({@code base}: tensors, a forward's input and output, the exceptions) uses nothing of clrnn; the device,
 * the file formats and the model description use only it; the engine runs a model on a device; ONNX graphs
 * and the public API ({@code io.clrnn}: {@code Rnn}) are built on the engine; generation and Spark on the
 * API; the command line and the server on everything.
 */
class ArchitectureTest {
    /** Where the library's and the CLI's classes were compiled to (a folder apart from the tests' in a build). */
    private static final URL MAIN = codeSource(Rnn.class);
    private static JavaClasses classes;

    @BeforeAll
    static void importTheBuild() {
        // scripts/test-bundle merges main and test classes into one jar, where they cannot be told apart;
        // every build with Maven (scripts/test, CI) keeps them in two folders and checks the rule.
        assumeFalse(MAIN.equals(codeSource(ArchitectureTest.class)),
                "the library's classes lie with the tests' (a test bundle): the layering is checked by scripts/test");
        classes = new ClassFileImporter().importUrl(MAIN);
    }

    private static URL codeSource(Class<?> c) {
        return c.getProtectionDomain().getCodeSource().getLocation();
    }

    @Test
    void everyPackageUsesOnlyTheLayersBelowIt() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("base").definedBy("io.clrnn.base..")
                .layer("device").definedBy("io.clrnn.device..")
                .layer("format").definedBy("io.clrnn.format..")
                .layer("model").definedBy("io.clrnn.model..")
                .layer("engine").definedBy("io.clrnn.engine..")
                .layer("onnx").definedBy("io.clrnn.onnx..")
                .layer("api").definedBy("io.clrnn")
                .layer("generate").definedBy("io.clrnn.generate..")
                .layer("spark").definedBy("io.clrnn.spark..")
                .layer("cli").definedBy("io.clrnn.cli..", "io.clrnn.bench..", "io.clrnn.serve..")
                .whereLayer("base").mayNotAccessAnyLayer()
                .whereLayer("device").mayOnlyAccessLayers("base")
                .whereLayer("format").mayOnlyAccessLayers("base")
                .whereLayer("model").mayOnlyAccessLayers("base")
                .whereLayer("engine").mayOnlyAccessLayers("base", "device", "model")
                .whereLayer("onnx").mayOnlyAccessLayers("base", "device", "format", "model", "engine")
                .whereLayer("api").mayOnlyAccessLayers("base", "device", "format", "model", "engine")
                .whereLayer("generate").mayOnlyAccessLayers("base", "device", "format", "model", "engine", "onnx",
                        "api")
                .whereLayer("spark").mayOnlyAccessLayers("base", "device", "format", "model", "engine", "api")
                .whereLayer("cli").mayOnlyAccessLayers("base", "device", "format", "model", "engine", "onnx", "api",
                        "generate", "spark")
                .check(classes);
    }

    @Test
    void theRuleSeesTheWholeLibrary() {
        // A rule checked on no classes passes: make sure the import found every layer.
        for (String pkg : new String[] {"io.clrnn.base", "io.clrnn.device", "io.clrnn.format", "io.clrnn.model",
                "io.clrnn.engine", "io.clrnn.onnx", "io.clrnn", "io.clrnn.generate", "io.clrnn.spark",
                "io.clrnn.cli", "io.clrnn.serve"}) {
            assertTrue(classes.stream().anyMatch(c -> c.getPackageName().equals(pkg)), pkg + " not imported");
        }
    }
}
