package io.diminuendo.architecture;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The packages of the gateway form no cycle: each depends only on packages "below" it, so a package can be read,
 * tested and replaced (a second store, a bus) without the rest of the house coming along.
 */
class PackageCyclesTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.diminuendo");

    @Test
    void packagesHaveNoCycles() {
        slices().matching("io.diminuendo.(*)..").should().beFreeOfCycles().check(MAIN);
    }
}
