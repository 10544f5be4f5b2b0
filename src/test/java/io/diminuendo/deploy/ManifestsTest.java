package io.diminuendo.deploy;

import static io.diminuendo.deploy.Manifests.DRAIN_SECONDS;
import static io.diminuendo.deploy.Manifests.assertProbe;
import static io.diminuendo.deploy.Manifests.env;
import static io.diminuendo.deploy.Manifests.javaOpts;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

/**
 * {@code deploy/} parses into the Kubernetes model without unknown fields and agrees with the application: the
 * HTTP port, the health paths, the store directory on the volume, the settings and secrets the gateway reads,
 * the security context and the graceful stop.
 */
class ManifestsTest {
    private static Properties app;
    private static Manifests deploy;
    private static StatefulSet gateway;
    private static Container container;
    private static ConfigMap configMap;
    private static Secret secret;

    @BeforeAll
    static void load() throws IOException {
        app = Manifests.applicationProperties();
        deploy = Manifests.load(Path.of("deploy"));
        gateway = deploy.only(StatefulSet.class);
        container = gateway.getSpec().getTemplate().getSpec().getContainers().get(0);
        configMap = deploy.only(ConfigMap.class);
        secret = deploy.only(Secret.class);
    }

    @Test
    void kustomizationListsEveryManifestAndNamesTheImageTheStatefulSetUses() throws IOException {
        deploy.assertKustomizationListsEveryManifest();
        assertThat(deploy.kustomization().path("images")).allSatisfy(image -> assertThat(container.getImage())
                .isEqualTo(image.path("name").asText() + ":" + image.path("newTag").asText()));
    }

    @Test
    void everyManifestIsAKnownKindWithoutUnknownFields() {
        deploy.byFile().forEach((file, items) -> {
            assertThat(items).as(file).isNotEmpty();
            for (HasMetadata item : items) {
                assertThat(item).as(file).isNotInstanceOf(GenericKubernetesResource.class);
                assertThat(item.getMetadata().getName()).as(file).isNotBlank();
                assertThat(Manifests.unknownFields(item)).as(file + ": fields the Kubernetes API does not know (typos?)")
                        .isEmpty();
            }
        });
    }

    @Test
    void oneReplicaWithItsOwnVolumeAndAHeadlessGoverningService() {
        assertThat(gateway.getSpec().getReplicas()).isEqualTo(1);
        assertThat(gateway.getSpec().getVolumeClaimTemplates()).hasSize(1);
        Service governing = deploy.all(Service.class).stream()
                .filter(s -> s.getMetadata().getName().equals(gateway.getSpec().getServiceName())).findFirst().orElseThrow();
        assertThat(governing.getSpec().getClusterIP()).isEqualTo("None");
    }

    @Test
    void servicesExposeTheGatewayPortAndTheManagementPortStaysOnThePod() {
        Manifests.assertPorts(container, gateway.getSpec().getTemplate().getMetadata().getAnnotations(), app);
        for (Service service : deploy.all(Service.class)) {
            Manifests.assertPublicOnly(service, app);
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
        assertThat(javaOpts(container)).doesNotContain("java.io.tmpdir").doesNotContain("org.sqlite.tmpdir");
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
        assertThat(javaOpts(container)).contains("-XX:MaxRAMPercentage=");
    }

    @Test
    void selectorsMatchThePodLabels() {
        Map<String, String> podLabels = gateway.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels).containsAllEntriesOf(gateway.getSpec().getSelector().getMatchLabels());
        PodDisruptionBudget pdb = deploy.only(PodDisruptionBudget.class);
        assertThat(pdb.getSpec().getSelector().getMatchExpressions()).isNullOrEmpty();
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        for (Service service : deploy.all(Service.class)) {
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
        List<Pattern> known = Manifests.gatewaySettings(app);
        Set<String> keys = new TreeSet<>(configMap.getData().keySet());
        keys.addAll(secret.getData().keySet());
        assertThat(keys).allSatisfy(key -> assertThat(known).as(key + " is not a property of the gateway")
                .anyMatch(p -> p.matcher(key).matches()));
        assertThat(secret.getData()).containsOnlyKeys(env("diminuendo.auth.jwt-secret"));
    }

    @Test
    void theShippedSettingsAreValidAndThePlaceholderSecretIsRefused() {
        // the committed Secret is a placeholder: a gateway started with it must refuse, and nothing else may be wrong
        assertThat(Manifests.problems(configMap, secret, app))
                .containsExactly("diminuendo.auth.jwt-secret must be at least 32 bytes for HS256");
    }

    private static VolumeMount mount(String volume) {
        return Manifests.mount(container, volume);
    }
}
