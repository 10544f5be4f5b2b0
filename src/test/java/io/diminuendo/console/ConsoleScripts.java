package io.diminuendo.console;

import java.nio.file.Path;

import io.diminuendo.support.NodeScript;

/** The Node.js scripts of {@code src/test/console}, installed by {@code src/test/console/install.sh}. */
final class ConsoleScripts {
    static final Path DIR = Path.of("src", "test", "console");
    static final String INSTALLER = "src/test/console/install.sh";
    /** diminuendo-client.js with the ws package. */
    static final NodeScript CLIENT = new NodeScript(DIR, "client.mjs");
    /** The console in headless Chromium, driven by playwright-core. */
    static final NodeScript BROWSER = new NodeScript(DIR, "console.mjs");

    private ConsoleScripts() {
    }
}
