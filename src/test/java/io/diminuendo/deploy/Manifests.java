package io.diminuendo.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.diminuendo.config.ConfigValidator;
import io.diminuendo.config.GatewayConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * The manifests of one kustomize folder ({@code deploy/}, {@code deploy/cluster/}) parsed into the Kubernetes model,
 * and what {@link ManifestsTest} and {@link ClusterManifestsTest} check them against: application.properties, the
 * {@link GatewayConfig} mapping and its validator.
 */
final class Manifests {
    /** How long the gateway may take to drain on SIGTERM (docs/operations.md, "Stopping"). */
    static final int DRAIN_SECONDS = 30;

    private final Path dir;
    private final Map<String, List<HasMetadata>> byFile;

    private Manifests(Path dir, Map<String, List<HasMetadata>> byFile) {
        this.dir = dir;
        this.byFile = byFile;
    }

    /** Every {@code .yaml} file of the folder but the kustomization, not those of its subfolders. */
    static Manifests load(Path dir) throws IOException {
        KubernetesSerialization serialization = new KubernetesSerialization();
        Map<String, List<HasMetadata>> byFile = new HashMap<>();
        List<Path> files;
        try (Stream<Path> listed = Files.list(dir)) {
            files = listed.filter(f -> f.toString().endsWith(".yaml") && !f.endsWith("kustomization.yaml")).sorted().toList();
        }
        for (Path file : files) {
            Object parsed = serialization.unmarshal(Files.readString(file));
            List<HasMetadata> items = parsed instanceof KubernetesList list ? list.getItems()
                    : parsed instanceof List<?> many ? many.stream().map(HasMetadata.class::cast).toList()
                    : List.of((HasMetadata) parsed);
            byFile.put(file.getFileName().toString(), items);
        }
        return new Manifests(dir, byFile);
    }

    Map<String, List<HasMetadata>> byFile() {
        return byFile;
    }

    JsonNode kustomization() throws IOException {
        return new ObjectMapper(new YAMLFactory()).readTree(dir.resolve("kustomization.yaml").toFile());
    }

    /** The kustomization's {@code resources}, and the manifest files of the folder. */
    void assertKustomizationListsEveryManifest() throws IOException {
        Set<String> listed = new TreeSet<>();
        kustomization().path("resources").forEach(n -> listed.add(n.asText()));
        assertThat(listed).as(dir + "/kustomization.yaml").isEqualTo(new TreeSet<>(byFile.keySet()));
    }

    <T extends HasMetadata> List<T> all(Class<T> kind) {
        return byFile.values().stream().flatMap(List::stream).filter(kind::isInstance).map(kind::cast).toList();
    }

    <T extends HasMetadata> T only(Class<T> kind) {
        List<T> found = all(kind);
        assertThat(found).as(dir + ": " + kind.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    static Properties applicationProperties() throws IOException {
        Properties app = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of("src", "main", "resources", "application.properties"))) {
            app.load(r);
        }
        return app;
    }

    /** The environment variable for a property, as SmallRye Config maps it: non-alphanumerics to {@code _}, upper case. */
    static String env(String property) {
        return property.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** Every setting the gateway reads, as env-name patterns: the {@link GatewayConfig} mapping and application.properties. */
    static List<Pattern> gatewaySettings(Properties app) {
        List<Pattern> known = new ArrayList<>();
        mappingProperties("diminuendo", GatewayConfig.class, known);
        for (String name : app.stringPropertyNames()) {
            if (!name.startsWith("%")) {
                known.add(Pattern.compile(Pattern.quote(env(name))));
            }
        }
        return known;
    }

    /**
     * What {@link ConfigValidator} finds wrong with the settings of a ConfigMap and a Secret, given as environment
     * variables like the container gets them.
     */
    static List<String> problems(ConfigMap configMap, Secret secret, Properties app) {
        Map<String, String> env = new HashMap<>(configMap.getData());
        secret.getData().forEach((k, v) -> env.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(GatewayConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new EnvConfigSource(env, 300))
                .build();
        int maxMessageSize = Integer.parseInt(app.getProperty("quarkus.websockets-next.server.max-message-size"));
        return new ConfigValidator(config.getConfigMapping(GatewayConfig.class), maxMessageSize).problems(true);
    }

    static VolumeMount mount(Container container, String volume) {
        return container.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst()
                .orElseThrow(() -> new AssertionError("no mount of volume " + volume));
    }

    static String javaOpts(Container container) {
        return container.getEnv().stream().filter(e -> e.getName().equals("JAVA_OPTS")).map(e -> e.getValue())
                .findFirst().orElse("");
    }

    static void assertProbe(Probe probe, String path) {
        assertThat(probe).as(path).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort().getStrVal()).as("probes go to the management port").isEqualTo("management");
    }

    /**
     * The container's ports: {@code http} on the gateway's port, {@code management} on the management interface's;
     * the pod template's Prometheus annotations point at the management port and {@code /q/metrics}.
     */
    static void assertPorts(Container container, Map<String, String> podAnnotations, Properties app) {
        int http = Integer.parseInt(app.getProperty("quarkus.http.port"));
        int management = Integer.parseInt(app.getProperty("quarkus.management.port"));
        assertThat(app.getProperty("quarkus.management.enabled")).isEqualTo("true");
        assertThat(container.getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
                .containsExactly("http:" + http, "management:" + management);
        assertThat(podAnnotations).containsEntry("prometheus.io/port", String.valueOf(management))
                .containsEntry("prometheus.io/path", "/q/metrics");
    }

    /** A Service exposes the gateway's port only, never the management interface. */
    static void assertPublicOnly(Service service, Properties app) {
        int http = Integer.parseInt(app.getProperty("quarkus.http.port"));
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(sp -> {
            assertThat(sp.getName()).isEqualTo("http");
            assertThat(sp.getPort()).isEqualTo(http);
            assertThat(sp.getTargetPort().getStrVal()).isEqualTo("http");
        });
    }

    /** Paths of fields the model did not recognise (kept in {@code additionalProperties}), walking the whole object. */
    static List<String> unknownFields(HasMetadata item) {
        List<String> out = new ArrayList<>();
        collectUnknownFields(item, item.getKind(), out);
        return out;
    }

    /** Every property of a {@code @ConfigMapping} interface, as env-name patterns ({@code <name>} of a map: any). */
    private static void mappingProperties(String prefix, Class<?> mapping, List<Pattern> out) {
        for (Method m : mapping.getMethods()) {
            if (m.getParameterCount() != 0 || m.isDefault()) {
                continue;
            }
            String name = prefix + "." + m.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
            Type type = m.getGenericReturnType();
            if (m.getReturnType() == Map.class) {
                Type value = ((ParameterizedType) type).getActualTypeArguments()[1];
                mappingProperties(name + ".NAME", (Class<?>) value, out);
            } else if (m.getReturnType().isInterface() && m.getReturnType() != Optional.class) {
                mappingProperties(name, m.getReturnType(), out);
            } else {
                out.add(Pattern.compile(Pattern.quote(env(name)).replace("NAME", "\\E[A-Z0-9_]+\\Q")));
            }
        }
    }

    private static void collectUnknownFields(Object node, String path, List<String> out) {
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                collectUnknownFields(list.get(i), path + "[" + i + "]", out);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> collectUnknownFields(v, path + "." + k, out));
            return;
        }
        if (node == null || !node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            String field = Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
            if (field.equals("additionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    out.add(path + ": " + extra.keySet().stream().map(String::valueOf).collect(Collectors.joining(", ")));
                }
            } else {
                collectUnknownFields(value, path + "." + field, out);
            }
        }
    }
}
