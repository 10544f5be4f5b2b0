package io.diminuendo.support;

import io.quarkus.test.common.QuarkusTestResource;

/** Applies {@link TestEnvironment} to every {@code @QuarkusTest} (unrestricted test resource). */
@QuarkusTestResource(TestEnvironment.class)
public final class GlobalTestResources {
    private GlobalTestResources() {
    }
}
