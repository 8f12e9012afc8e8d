package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.directResponse;
import static dev.sluice.testing.XdsProtos.httpListener;
import static dev.sluice.testing.XdsProtos.inlineConnectionManager;
import static dev.sluice.testing.XdsProtos.oneEndpoint;
import static dev.sluice.testing.XdsProtos.tlsCertificateSecret;
import static dev.sluice.testing.XdsProtos.validationContextSecret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.stats.StatsStore;
import dev.sluice.testing.AdsBootstrap;
import dev.sluice.testing.Openssl;
import dev.sluice.testing.Openssl.Pem;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import dev.sluice.testing.TlsProbe;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Warming on SDS secrets, as Envoy: a listener (from LDS) or cluster (from CDS) whose TLS context
 * names Istio's {@code default} certificate and {@code ROOTCA} validation context over the
 * {@code sds-grpc} source is not activated, and the server not LIVE, until the secrets arrive; or,
 * when they never come, until their {@code initial_fetch_timeout} passes, after which the listener
 * is bound and its handshakes fail as Envoy's do. java-control-plane serves ADS and SDS.
 */
class SdsWarmingTest {
  private static final String GROUP = "sidecar";
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private final SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
  private TestControlPlane controlPlane;
  private Server server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
  }

  private int startControlPlane() throws IOException {
    controlPlane = TestControlPlane.start(cache, Service.ADS, Service.SDS);
    return controlPlane.port();
  }

  /** Bootstrap as Istio's: {@code xds-grpc} for ADS, {@code sds-grpc} for secrets (here one server). */
  private Server startServer(int port) {
    return startServer(port, List.of());
  }

  /** With static listeners in the bootstrap too. */
  private Server startServer(int port, List<Listener> staticListeners) {
    JsonFormat.Printer json = JsonFormat.printer().omittingInsignificantWhitespace().usingTypeRegistry(
        JsonFormat.TypeRegistry.newBuilder().add(HttpConnectionManager.getDescriptor()).add(Router.getDescriptor())
            .add(DownstreamTlsContext.getDescriptor()).build());
    List<String> listeners = new ArrayList<>();
    for (Listener l : staticListeners) {
      try {
        listeners.add(json.print(l));
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
    server = new Server(TestServers.options(), TestServers.bootstrap(AdsBootstrap.toPort(port)
        .staticCluster("sds-grpc", port)
        .staticListeners(String.join(", ", listeners)).yaml())).start();
    return server;
  }

  private static SdsSecretConfig sds(String name, long fetchTimeoutMs) {
    return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(ConfigSource.newBuilder()
        .setResourceApiVersion(ApiVersion.V3)
        .setInitialFetchTimeout(com.google.protobuf.Duration.newBuilder()
            .setSeconds(fetchTimeoutMs / 1000).setNanos((int) (fetchTimeoutMs % 1000) * 1_000_000))
        .setApiConfigSource(ApiConfigSource.newBuilder().setApiType(ApiConfigSource.ApiType.GRPC)
            .setTransportApiVersion(ApiVersion.V3)
            .addGrpcServices(GrpcService.newBuilder().setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName("sds-grpc")))))
        .build();
  }

  /** Istio's shape: the workload certificate {@code default}, client certificates checked against {@code ROOTCA}. */
  private static CommonTlsContext istioTls(long fetchTimeoutMs) {
    return CommonTlsContext.newBuilder().addTlsCertificateSdsSecretConfigs(sds("default", fetchTimeoutMs))
        .setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
            .setDefaultValidationContext(CertificateValidationContext.getDefaultInstance())
            .setValidationContextSdsSecretConfig(sds("ROOTCA", fetchTimeoutMs)))
        .build();
  }

  private static Listener tlsListener(long fetchTimeoutMs) {
    Listener plain = httpListener("tls", inlineConnectionManager("inbound", directResponse("local", 200)));
    return plain.toBuilder().setFilterChains(0, plain.getFilterChains(0).toBuilder()
            .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                .setTypedConfig(Any.pack(DownstreamTlsContext.newBuilder().setCommonTlsContext(istioTls(fetchTimeoutMs)).build()))))
        .build();
  }

  /** A cluster to an mTLS upstream (never dialled here) with Istio's TLS context. */
  private static Cluster tlsCluster(long fetchTimeoutMs) {
    return Cluster.newBuilder().setName("outbound|443||reviews").setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .setLoadAssignment(oneEndpoint("outbound|443||reviews", 9))
        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
            .setTypedConfig(Any.pack(UpstreamTlsContext.newBuilder().setCommonTlsContext(istioTls(fetchTimeoutMs)).build())))
        .build();
  }

  private void snapshot(String version, List<Cluster> clusters, List<Listener> listeners, List<Secret> secrets) {
    cache.setSnapshot(GROUP, Snapshot.create(clusters, List.of(), listeners, List.of(), secrets, version));
  }

  /** Istio's two secrets: the workload certificate {@code default} (self-signed) and {@code ROOTCA} trusting it. */
  private List<Secret> istioSecrets() throws Exception {
    Pem workload = Openssl.selfSigned(dir, "workload");
    return List.of(tlsCertificateSecret("default", workload.certificate(), workload.key()),
        validationContextSecret("ROOTCA", workload.certificate()));
  }

  private String servedSubject() throws Exception {
    return TlsProbe.servedSubject(server.listenerPort("tls"));
  }

  private long sum(String prefix, String suffix) {
    return server.stats().counters().stream().filter(c -> c.name().startsWith(prefix) && c.name().endsWith(suffix))
        .mapToLong(StatsStore.CounterImpl::value).sum();
  }

  @Test
  void listenerAndClusterWarmUntilTheirSecretsArrive() throws Exception {
    snapshot("1", List.of(tlsCluster(0)), List.of(tlsListener(0)), List.of());
    startServer(startControlPlane());

    // Both secrets are asked for on sds-grpc before any TLS context exists; nothing is activated.
    await().atMost(WAIT).untilAsserted(() -> assertThat(controlPlane.requests).anySatisfy(r -> {
      assertThat(r.getTypeUrl()).isEqualTo(XdsResourceType.SECRET.typeUrl());
      assertThat(Set.copyOf(r.getResourceNamesList())).isEqualTo(Set.of("default", "ROOTCA"));
    }));
    await().atMost(WAIT).until(() -> server.stats().counter("cluster_manager.cds.update_success").value() == 1);
    assertThat(server.live()).isNotDone();
    assertThat(server.stats().gauge("cluster_manager.active_clusters").value()).isEqualTo(2); // xds-grpc, sds-grpc
    assertThatThrownBy(() -> server.listenerPort("tls")).isInstanceOf(IllegalStateException.class);

    snapshot("2", List.of(tlsCluster(0)), List.of(tlsListener(0)), istioSecrets());
    server.awaitLive(WAIT);
    assertThat(server.stats().gauge("cluster_manager.active_clusters").value()).isEqualTo(3);
    assertThat(servedSubject()).isEqualTo("CN=workload");
    assertThat(server.stats().counter("sds.default.update_success").value()).isEqualTo(1);
    assertThat(server.stats().counter("sds.ROOTCA.update_success").value()).isEqualTo(1);
    assertThat(server.stats().counter("sds.default.init_fetch_timeout").value()).isZero();
    assertThat(sum("listener.", "ssl.connection_error")).isZero();
  }

  @Test
  void aStaticListenerTakesNoConnectionsUntilItsSecretsArrive() throws Exception {
    snapshot("1", List.of(), List.of(), List.of());
    startServer(startControlPlane(), List.of(tlsListener(0)));

    // The secrets are asked for; the first CDS/LDS round is done, yet the static listener waits.
    await().atMost(WAIT).untilAsserted(() -> assertThat(controlPlane.requests).anySatisfy(r -> {
      assertThat(r.getTypeUrl()).isEqualTo(XdsResourceType.SECRET.typeUrl());
      assertThat(Set.copyOf(r.getResourceNamesList())).isEqualTo(Set.of("default", "ROOTCA"));
    }));
    await().atMost(WAIT).until(() -> server.stats().counter("listener_manager.lds.update_success").value() >= 1);
    assertThat(server.live()).isNotDone();
    assertThatThrownBy(() -> server.listenerPort("tls")).isInstanceOf(IllegalStateException.class);

    snapshot("2", List.of(), List.of(), istioSecrets());
    server.awaitLive(WAIT);
    assertThat(servedSubject()).isEqualTo("CN=workload");
    assertThat(sum("listener.", "ssl.connection_error")).isZero();
    assertThat(sum("listener.", "downstream_context_secrets_not_ready")).isZero();
  }

  @Test
  void aClusterWaitingForItsSecretsIsValidatedWhenItArrivesAndNackedWhenBad() throws Exception {
    Cluster good = tlsCluster(0);
    UpstreamTlsContext tls = good.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    Cluster bad = good.toBuilder().setName("outbound|443||ratings")
        .setTransportSocket(good.getTransportSocket().toBuilder().setTypedConfig(Any.pack(tls.toBuilder()
            .setCommonTlsContext(tls.getCommonTlsContext().toBuilder().setTlsParams(TlsParameters.newBuilder()
                .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3)
                .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2))).build())))
        .build();
    snapshot("1", List.of(good, bad), List.of(), List.of());
    startServer(startControlPlane());

    // No secret has arrived, so neither cluster is built yet; the bad one is rejected all the same.
    await().atMost(WAIT).untilAsserted(() -> assertThat(controlPlane.requests).anySatisfy(r -> {
      assertThat(r.getTypeUrl()).isEqualTo(XdsResourceType.CLUSTER.typeUrl());
      assertThat(r.getErrorDetail().getMessage()).contains("outbound|443||ratings")
          .contains("transport_socket.typed_config.common_tls_context.tls_params")
          .doesNotContain("outbound|443||reviews");
    }));
    assertThat(server.stats().counter("cluster_manager.cds.update_rejected").value()).isPositive();
    assertThat(server.stats().counter("cluster_manager.cds.update_success").value()).isZero();

    // The good one warmed on its secrets meanwhile and is added once they come.
    snapshot("2", List.of(good), List.of(), istioSecrets());
    await().atMost(WAIT).until(() -> server.stats().gauge("cluster_manager.active_clusters").value() == 3);
    assertThat(server.stats().counter("cluster_manager.cds.update_success").value()).isEqualTo(1);
  }

  @Test
  void withoutItsSecretsAListenerIsActivatedAfterTheirInitialFetchTimeoutAndRefusesHandshakes() throws Exception {
    snapshot("1", List.of(tlsCluster(300)), List.of(tlsListener(300)), List.of());
    startServer(startControlPlane());
    server.awaitLive(WAIT);

    assertThat(server.stats().counter("sds.default.init_fetch_timeout").value()).isEqualTo(1);
    assertThat(server.stats().counter("sds.ROOTCA.init_fetch_timeout").value()).isEqualTo(1);
    assertThat(server.stats().gauge("cluster_manager.active_clusters").value()).isEqualTo(3);
    assertThatThrownBy(this::servedSubject).isInstanceOf(IOException.class);
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(sum("listener.", "ssl.connection_error")).isPositive();
      assertThat(sum("listener.", "server_ssl_socket_factory.downstream_context_secrets_not_ready")).isPositive();
    });

    // The secrets come later: the listener serves them without being replaced.
    snapshot("2", List.of(tlsCluster(300)), List.of(tlsListener(300)), istioSecrets());
    await().atMost(WAIT).ignoreExceptions().until(() -> servedSubject().equals("CN=workload"));
    assertThat(server.stats().counter("listener_manager.listener_modified").value()).isZero();
  }
}
