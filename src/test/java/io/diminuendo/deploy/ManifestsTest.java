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

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.diminuendo.config.ConfigValidator;
import io.diminuendo.config.GatewayConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * {@code deploy/} parses into the Kubernetes model without unknown fields and agrees with the application: the
 * HTTP port, the health paths, the store directory on the volume, the settings and secrets the gateway reads,
 * the security context and the graceful stop.
 */
class ManifestsTest {
    private static final Path DEPLOY = Path.of("deploy");
    private static final int DRAIN_SECONDS = 30;

    private static Properties app;
    private static Map<String, List<HasMetadata>> byFile;
    private static StatefulSet gateway;
    private static Container container;
    private static ConfigMap configMap;
    private static Secret secret;

    @BeforeAll
    static void load() throws IOException {
        app = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of("src", "main", "resources", "application.properties"))) {
            app.load(r);
        }
        KubernetesSerialization serialization = new KubernetesSerialization();
        byFile = new HashMap<>();
        for (Path file : manifestFiles()) {
            Object parsed = serialization.unmarshal(Files.readString(file));
            List<HasMetadata> items = parsed instanceof KubernetesList list ? list.getItems()
                    : parsed instanceof List<?> many ? many.stream().map(HasMetadata.class::cast).toList()
                    : List.of((HasMetadata) parsed);
            byFile.put(file.getFileName().toString(), items);
        }
        gateway = only(StatefulSet.class);
        container = gateway.getSpec().getTemplate().getSpec().getContainers().get(0);
        configMap = only(ConfigMap.class);
        secret = only(Secret.class);
    }

    @Test
    void kustomizationListsEveryManifestAndNamesTheImageTheStatefulSetUses() throws IOException {
        JsonNode kustomization = new ObjectMapper(new YAMLFactory()).readTree(DEPLOY.resolve("kustomization.yaml").toFile());
        Set<String> listed = new TreeSet<>();
        kustomization.path("resources").forEach(n -> listed.add(n.asText()));
        assertThat(listed).isEqualTo(new TreeSet<>(byFile.keySet()));
        assertThat(kustomization.path("images")).allSatisfy(image -> assertThat(container.getImage())
                .isEqualTo(image.path("name").asText() + ":" + image.path("newTag").asText()));
    }

    @Test
    void everyManifestIsAKnownKindWithoutUnknownFields() {
        byFile.forEach((file, items) -> {
            assertThat(items).as(file).isNotEmpty();
            for (HasMetadata item : items) {
                assertThat(item).as(file).isNotInstanceOf(GenericKubernetesResource.class);
                assertThat(item.getMetadata().getName()).as(file).isNotBlank();
                List<String> unknown = new ArrayList<>();
                collectUnknownFields(item, item.getKind(), unknown);
                assertThat(unknown).as(file + ": fields the Kubernetes API does not know (typos?)").isEmpty();
            }
        });
    }

    @Test
    void oneReplicaWithItsOwnVolumeAndAHeadlessGoverningService() {
        assertThat(gateway.getSpec().getReplicas()).isEqualTo(1);
        assertThat(gateway.getSpec().getVolumeClaimTemplates()).hasSize(1);
        Service governing = all(Service.class).stream()
                .filter(s -> s.getMetadata().getName().equals(gateway.getSpec().getServiceName())).findFirst().orElseThrow();
        assertThat(governing.getSpec().getClusterIP()).isEqualTo("None");
    }

    @Test
    void containerAndServicesUseTheGatewayHttpPort() {
        int port = Integer.parseInt(app.getProperty("quarkus.http.port"));
        assertThat(container.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("http");
            assertThat(p.getContainerPort()).isEqualTo(port);
        });
        for (Service service : all(Service.class)) {
            ServicePort sp = service.getSpec().getPorts().get(0);
            assertThat(sp.getName()).isEqualTo("http");
            assertThat(sp.getPort()).isEqualTo(port);
            assertThat(sp.getTargetPort().getStrVal()).isEqualTo("http");
        }
    }

    @Test
    void probesUseTheSmallRyeHealthEndpoints() {
        assertProbe(container.getLivenessProbe(), "/q/health/live");
        assertProbe(container.getReadinessProbe(), "/q/health/ready");
        assertProbe(container.getStartupProbe(), "/q/health/live");
        // the readiness check allows its test write 2 s
        assertThat(container.getReadinessProbe().getTimeoutSeconds()).isGreaterThan(2);
    }

    @Test
    void theDataVolumeIsMountedAtTheStoreDirectory() {
        String storePath = configMap.getData().get(env("diminuendo.store.path"));
        assertThat(storePath).as("DIMINUENDO_STORE_PATH in the ConfigMap").startsWith("/");
        String dataVolume = gateway.getSpec().getVolumeClaimTemplates().get(0).getMetadata().getName();
        assertThat(mount(dataVolume).getMountPath()).isEqualTo(Path.of(storePath).getParent().toString());
        assertThat(mount(dataVolume).getReadOnly()).isNotEqualTo(Boolean.TRUE);
    }

    @Test
    void theRootFilesystemIsReadOnlyAndOnlyTheDataVolumeAndTmpAreWritable() {
        PodSpec pod = gateway.getSpec().getTemplate().getSpec();
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
        assertThat(pod.getSecurityContext().getFsGroup()).as("fsGroup makes the volume writable").isNotNull();
        assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        // sqlite-jdbc unpacks its native library into java.io.tmpdir (/tmp unless JAVA_OPTS says otherwise)
        assertThat(javaOpts()).doesNotContain("java.io.tmpdir").doesNotContain("org.sqlite.tmpdir");
        assertThat(pod.getVolumes().stream().filter(v -> v.getName().equals(mount(v.getName()).getName())))
                .anySatisfy(v -> {
                    assertThat(v.getEmptyDir()).isNotNull();
                    assertThat(mount(v.getName()).getMountPath()).isEqualTo("/tmp");
                });
        assertThat(container.getVolumeMounts()).extracting(VolumeMount::getMountPath)
                .containsExactlyInAnyOrder("/data", "/tmp");
    }

    @Test
    void theGracePeriodCoversThePreStopPauseAndTheDrain() {
        List<String> preStop = container.getLifecycle().getPreStop().getExec().getCommand();
        assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
        int pause = Integer.parseInt(preStop.get(1));
        assertThat(pause).isBetween(1, 10);
        assertThat(gateway.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
                .isGreaterThanOrEqualTo(pause + DRAIN_SECONDS);
        assertThat(app.getProperty("quarkus.shutdown.delay-enabled")).as("the drain runs before the HTTP server stops")
                .isEqualTo("true");
    }

    @Test
    void resourcesAreBoundedAndTheHeapFitsTheLimit() {
        Quantity request = container.getResources().getRequests().get("memory");
        Quantity limit = container.getResources().getLimits().get("memory");
        assertThat(Quantity.getAmountInBytes(request)).isLessThanOrEqualTo(Quantity.getAmountInBytes(limit));
        assertThat(container.getResources().getRequests()).containsKey("cpu");
        assertThat(javaOpts()).contains("-XX:MaxRAMPercentage=");
    }

    @Test
    void selectorsMatchThePodLabels() {
        Map<String, String> podLabels = gateway.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels).containsAllEntriesOf(gateway.getSpec().getSelector().getMatchLabels());
        PodDisruptionBudget pdb = only(PodDisruptionBudget.class);
        assertThat(pdb.getSpec().getSelector().getMatchExpressions()).isNullOrEmpty();
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        for (Service service : all(Service.class)) {
            assertThat(podLabels).as(service.getMetadata().getName()).containsAllEntriesOf(service.getSpec().getSelector());
        }
    }

    @Test
    void theContainerReadsTheConfigMapAndTheSecretOfThisDirectory() {
        List<EnvFromSource> from = container.getEnvFrom();
        assertThat(from).filteredOn(e -> e.getConfigMapRef() != null).extracting(e -> e.getConfigMapRef().getName())
                .containsExactly(configMap.getMetadata().getName());
        assertThat(from).filteredOn(e -> e.getSecretRef() != null).extracting(e -> e.getSecretRef().getName())
                .containsExactly(secret.getMetadata().getName());
    }

    @Test
    void everyConfigMapAndSecretKeyIsASettingTheGatewayReads() {
        List<Pattern> known = new ArrayList<>();
        gatewayProperties("diminuendo", GatewayConfig.class, known);
        for (String name : app.stringPropertyNames()) {
            if (!name.startsWith("%")) {
                known.add(Pattern.compile(Pattern.quote(env(name))));
            }
        }
        Set<String> keys = new TreeSet<>(configMap.getData().keySet());
        keys.addAll(secret.getData().keySet());
        assertThat(keys).allSatisfy(key -> assertThat(known).as(key + " is not a property of the gateway")
                .anyMatch(p -> p.matcher(key).matches()));
        assertThat(secret.getData()).containsOnlyKeys(env("diminuendo.auth.jwt-secret"));
    }

    @Test
    void theShippedSettingsAreValidAndThePlaceholderSecretIsRefused() {
        Map<String, String> env = new HashMap<>(configMap.getData());
        secret.getData().forEach((k, v) -> env.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(GatewayConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new EnvConfigSource(env, 300))
                .build();
        int maxMessageSize = Integer.parseInt(app.getProperty("quarkus.websockets-next.server.max-message-size"));
        List<String> problems = new ConfigValidator(config.getConfigMapping(GatewayConfig.class), maxMessageSize)
                .problems(true);
        // the committed Secret is a placeholder: a gateway started with it must refuse, and nothing else may be wrong
        assertThat(problems).containsExactly("diminuendo.auth.jwt-secret must be at least 32 bytes for HS256");
    }

    private static List<Path> manifestFiles() throws IOException {
        try (Stream<Path> files = Files.list(DEPLOY)) {
            return files.filter(f -> f.toString().endsWith(".yaml") && !f.endsWith("kustomization.yaml")).sorted().toList();
        }
    }

    private static <T extends HasMetadata> List<T> all(Class<T> kind) {
        return byFile.values().stream().flatMap(List::stream).filter(kind::isInstance).map(kind::cast).toList();
    }

    private static <T extends HasMetadata> T only(Class<T> kind) {
        List<T> found = all(kind);
        assertThat(found).as(kind.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    private static VolumeMount mount(String volume) {
        return container.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst()
                .orElseThrow(() -> new AssertionError("no mount of volume " + volume));
    }

    private static String javaOpts() {
        return container.getEnv().stream().filter(e -> e.getName().equals("JAVA_OPTS")).map(e -> e.getValue())
                .findFirst().orElse("");
    }

    private static void assertProbe(Probe probe, String path) {
        assertThat(probe).as(path).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
    }

    /** The environment variable for a property, as SmallRye Config maps it: non-alphanumerics to {@code _}, upper case. */
    private static String env(String property) {
        return property.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** Every property of a {@code @ConfigMapping} interface, as env-name patterns ({@code <name>} of a map: any). */
    private static void gatewayProperties(String prefix, Class<?> mapping, List<Pattern> out) {
        for (Method m : mapping.getMethods()) {
            if (m.getParameterCount() != 0 || m.isDefault()) {
                continue;
            }
            String name = prefix + "." + m.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
            Type type = m.getGenericReturnType();
            if (m.getReturnType() == Map.class) {
                Type value = ((ParameterizedType) type).getActualTypeArguments()[1];
                gatewayProperties(name + ".NAME", (Class<?>) value, out);
            } else if (m.getReturnType().isInterface() && m.getReturnType() != Optional.class) {
                gatewayProperties(name, m.getReturnType(), out);
            } else {
                out.add(Pattern.compile(Pattern.quote(env(name)).replace("NAME", "\\E[A-Z0-9_]+\\Q")));
            }
        }
    }

    /** Paths of fields the model did not recognise (kept in {@code additionalProperties}), walking the whole object. */
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
