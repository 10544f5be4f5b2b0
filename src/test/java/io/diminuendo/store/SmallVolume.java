package io.diminuendo.store;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A tmpfs of a few MiB under {@code target/}, for tests of a store whose disk fills up. Mounting needs root (CI and
 * the project's machines have it); elsewhere the test that asks for one is reported skipped.
 */
final class SmallVolume implements AutoCloseable {
    final Path root;

    private SmallVolume(Path root) {
        this.root = root;
    }

    /** Mounts a tmpfs of {@code size} (as mount takes it: {@code 4m}), or skips the calling test. */
    static SmallVolume mount(String size) throws Exception {
        Path root = Path.of("target", "it-tmpfs-" + UUID.randomUUID()).toAbsolutePath();
        Files.createDirectories(root);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", root.toString()),
                "this machine does not allow mounting a small tmpfs");
        return new SmallVolume(root);
    }

    private static boolean run(String... cmd) throws Exception {
        return new ProcessBuilder(cmd).redirectErrorStream(true).start().waitFor() == 0;
    }

    /** Unmounts it; lazily if it is still busy, so that no tmpfs is left under {@code target/}. */
    @Override
    public void close() throws Exception {
        if (!run("umount", root.toString()) && !run("umount", "-l", root.toString())) {
            throw new IllegalStateException("cannot unmount " + root);
        }
    }
}
