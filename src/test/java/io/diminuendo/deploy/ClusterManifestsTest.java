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
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.RollingUpdateDeployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerSpec;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

/**
 * {@code deploy/cluster/} parses into the Kubernetes model without unknown fields, runs the pod of {@code deploy/}
 * (probes, resources, security context, graceful stop) as a Deployment of three without a volume, and agrees
 * with the application and with itself: the settings it sets, the HTTP port, and what the Service, the
 * PodDisruptionBudget and the HorizontalPodAutoscaler select or scale.
 */
class ClusterManifestsTest {
    private static Properties app;
    private static Manifests cluster;
    private static Deployment gateway;
    private static PodSpec pod;
    private static Container container;
    private static ConfigMap configMap;
    private static Secret secret;

    @BeforeAll
    static void load() throws IOException {
        app = Manifests.applicationProperties();
        cluster = Manifests.load(Path.of("deploy", "cluster"));
        gateway = cluster.only(Deployment.class);
        pod = gateway.getSpec().getTemplate().getSpec();
        container = pod.getContainers().get(0);
        configMap = cluster.only(ConfigMap.class);
        secret = cluster.only(Secret.class);
    }

    @Test
    void kustomizationListsEveryManifestAndNamesTheImageTheDeploymentUses() throws IOException {
        cluster.assertKustomizationListsEveryManifest();
        assertThat(cluster.kustomization().path("images")).allSatisfy(image -> assertThat(container.getImage())
                .isEqualTo(image.path("name").asText() + ":" + image.path("newTag").asText()));
    }

    @Test
    void everyManifestIsAKnownKindWithoutUnknownFields() {
        cluster.byFile().forEach((file, items) -> {
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
    void threeReplicasWithoutAVolume() {
        assertThat(gateway.getSpec().getReplicas()).isEqualTo(3);
        assertThat(cluster.all(PersistentVolumeClaim.class)).isEmpty();
        assertThat(cluster.all(StatefulSet.class)).as("no volumeClaimTemplates either").isEmpty();
        assertThat(pod.getVolumes()).allSatisfy(v -> assertThat(v.getPersistentVolumeClaim()).as(v.getName()).isNull());
    }

    @Test
    void aRolloutAddsOnePodBeforeItRemovesOne() {
        assertThat(gateway.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
        RollingUpdateDeployment rolling = gateway.getSpec().getStrategy().getRollingUpdate();
        assertThat(rolling.getMaxUnavailable().getIntVal()).isZero();
        assertThat(rolling.getMaxSurge().getIntVal()).isEqualTo(1);
    }

    @Test
    void thePodIsTheSingleNodePodWithoutItsDataVolume() throws IOException {
        PodTemplateSpec single = Manifests.load(Path.of("deploy")).only(StatefulSet.class).getSpec().getTemplate();
        Container singleContainer = single.getSpec().getContainers().get(0);
        assertThat(gateway.getSpec().getTemplate().getMetadata().getAnnotations())
                .as("the Prometheus annotations").isEqualTo(single.getMetadata().getAnnotations());
        assertThat(pod.getSecurityContext()).isEqualTo(single.getSpec().getSecurityContext());
        assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(single.getSpec().getTerminationGracePeriodSeconds());
        assertThat(pod.getAutomountServiceAccountToken()).isEqualTo(single.getSpec().getAutomountServiceAccountToken());
        assertThat(container).usingRecursiveComparison()
                .comparingOnlyFields("image", "ports", "startupProbe", "livenessProbe", "readinessProbe", "lifecycle",
                        "resources", "securityContext", "envFrom")
                .isEqualTo(singleContainer);
        assertThat(javaOpts(container)).isEqualTo(javaOpts(singleContainer));
    }

    @Test
    void theServiceExposesTheGatewayPortAndTheManagementPortStaysOnThePod() {
        Manifests.assertPorts(container, gateway.getSpec().getTemplate().getMetadata().getAnnotations(), app);
        Manifests.assertPublicOnly(cluster.only(Service.class), app);
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
    void theRootFilesystemIsReadOnlyAndOnlyTmpIsWritable() {
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getVolumeMounts()).singleElement().extracting(VolumeMount::getMountPath).isEqualTo("/tmp");
        Volume tmp = pod.getVolumes().stream()
                .filter(v -> v.getName().equals(container.getVolumeMounts().get(0).getName())).findFirst().orElseThrow();
        assertThat(tmp.getEmptyDir()).isNotNull();
        // native libraries are unpacked into java.io.tmpdir (/tmp unless JAVA_OPTS says otherwise)
        assertThat(javaOpts(container)).doesNotContain("java.io.tmpdir");
    }

    @Test
    void theGracePeriodCoversThePreStopPauseAndTheDrain() {
        List<String> preStop = container.getLifecycle().getPreStop().getExec().getCommand();
        assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
        int pause = Integer.parseInt(preStop.get(1));
        assertThat(pause).isBetween(1, 10);
        assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThanOrEqualTo(pause + DRAIN_SECONDS);
    }

    @Test
    void theServiceTheBudgetAndTheSpreadSelectTheDeploymentsPods() {
        Map<String, String> podLabels = gateway.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels).containsAllEntriesOf(gateway.getSpec().getSelector().getMatchLabels());
        assertThat(podLabels).as("Service").containsAllEntriesOf(cluster.only(Service.class).getSpec().getSelector());
        PodDisruptionBudget pdb = cluster.only(PodDisruptionBudget.class);
        assertThat(pdb.getSpec().getSelector().getMatchExpressions()).isNullOrEmpty();
        assertThat(podLabels).as("PodDisruptionBudget").containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        assertThat(pod.getTopologySpreadConstraints()).allSatisfy(spread -> assertThat(podLabels).as("topology spread")
                .containsAllEntriesOf(spread.getLabelSelector().getMatchLabels()));
    }

    @Test
    void theBudgetKeepsTwoPodsUpThroughADrainAndStillLetsItProceed() {
        int replicas = gateway.getSpec().getReplicas();
        PodDisruptionBudget pdb = cluster.only(PodDisruptionBudget.class);
        int minAvailable = pdb.getSpec().getMinAvailable() != null ? pdb.getSpec().getMinAvailable().getIntVal()
                : replicas - pdb.getSpec().getMaxUnavailable().getIntVal();
        assertThat(minAvailable).isBetween(2, replicas - 1);
    }

    @Test
    void theAutoscalerScalesTheDeploymentOnCpuUpFromItsReplicas() {
        HorizontalPodAutoscalerSpec hpa = cluster.only(HorizontalPodAutoscaler.class).getSpec();
        assertThat(hpa.getScaleTargetRef().getApiVersion()).isEqualTo(gateway.getApiVersion());
        assertThat(hpa.getScaleTargetRef().getKind()).isEqualTo("Deployment");
        assertThat(hpa.getScaleTargetRef().getName()).isEqualTo(gateway.getMetadata().getName());
        assertThat(hpa.getMinReplicas()).isEqualTo(gateway.getSpec().getReplicas());
        assertThat(hpa.getMaxReplicas()).isGreaterThan(hpa.getMinReplicas());
        assertThat(hpa.getMetrics()).singleElement().satisfies(m -> {
            assertThat(m.getResource().getName()).isEqualTo("cpu");
            assertThat(m.getResource().getTarget().getType()).isEqualTo("Utilization");
        });
        // utilization is measured against the request
        assertThat(container.getResources().getRequests()).containsKey("cpu");
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
    void theStoreIsPostgresqlAndTheBusNatsWithTheCredentialsInTheSecret() {
        Map<String, String> data = configMap.getData();
        assertThat(data.get(env("diminuendo.store.kind"))).isEqualTo("postgresql");
        assertThat(data.get(env("diminuendo.store.jdbc-url"))).startsWith("jdbc:postgresql://");
        assertThat(data.get(env("diminuendo.bus.kind"))).isEqualTo("nats");
        assertThat(data.get(env("diminuendo.bus.url"))).startsWith("nats://");
        assertThat(data).doesNotContainKey(env("diminuendo.store.path"));
        assertThat(secret.getData()).containsOnlyKeys(env("diminuendo.auth.jwt-secret"),
                env("diminuendo.store.username"), env("diminuendo.store.password"));
    }

    @Test
    void thePodNameComesFromTheDownwardApi() {
        assertThat(container.getEnv()).filteredOn(e -> e.getName().equals(env("diminuendo.cluster.pod-name")))
                .singleElement().satisfies(e -> {
                    assertThat(e.getValue()).isNull();
                    assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
                });
    }

    @Test
    void everyEnvVarAndConfigMapAndSecretKeyIsASettingTheGatewayReads() {
        List<Pattern> known = Manifests.gatewaySettings(app);
        Set<String> keys = new TreeSet<>(configMap.getData().keySet());
        keys.addAll(secret.getData().keySet());
        // JAVA_OPTS is read by the image's launcher, not by the gateway
        Stream.of(container.getEnv()).flatMap(List::stream).map(EnvVar::getName).filter(n -> !n.equals("JAVA_OPTS"))
                .forEach(keys::add);
        assertThat(keys).allSatisfy(key -> assertThat(known).as(key + " is not a property of the gateway")
                .anyMatch(p -> p.matcher(key).matches()));
    }

    @Test
    void theShippedSettingsAreValidAndThePlaceholderSecretIsRefused() {
        // the committed Secret is a placeholder: a gateway started with it must refuse, and nothing else may be wrong
        assertThat(Manifests.problems(configMap, secret, app))
                .containsExactly("diminuendo.auth.jwt-secret must be at least 32 bytes for HS256");
    }
}
