package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.tlsCertificateSecret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.Openssl;
import dev.sluice.testing.Openssl.Pem;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import dev.sluice.testing.TlsProbe;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SDS against java-control-plane's real SDS service ({@code StreamSecrets}): a TLS listener whose
 * certificate is {@code tls_certificate_sds_secret_configs: [{name: default}]} from an
 * {@code api_config_source} GRPC to the {@code sds-grpc} cluster (Istio's shape). The listener
 * refuses handshakes until the secret arrives, then serves it; a rotated certificate is what the
 * next connection sees; a bad secret is NACKed naming it and the last good one stays.
 */
class SdsIntegrationTest {
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
    controlPlane = TestControlPlane.start(cache, Service.SDS);
    return controlPlane.port();
  }

  private void secrets(String version, Secret... secrets) {
    cache.setSnapshot(GROUP, Snapshot.create(List.of(), List.of(), List.of(), List.of(), List.of(secrets), version));
  }

  private Server startServer(int sdsPort) {
    return TestServers.start("""
        node: {id: sidecar~127.0.0.1~test~default, cluster: test}
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: sds-grpc
            type: STATIC
            connect_timeout: 1s
            load_assignment:
              cluster_name: sds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          listeners:
          - name: tls
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  common_tls_context:
                    tls_certificate_sds_secret_configs:
                    - name: default
                      sds_config:
                        resource_api_version: V3
                        api_config_source:
                          api_type: GRPC
                          transport_api_version: V3
                          grpc_services: [{envoy_grpc: {cluster_name: sds-grpc}}]
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        direct_response: {status: 200, body: {inline_string: hello}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        """.formatted(sdsPort));
  }

  /** The subject of the certificate a new TLS connection to the listener is served. */
  private String servedSubject() throws Exception {
    return TlsProbe.servedSubject(server.listenerPort("tls"));
  }

  @Test
  void listenerServesTheSdsCertificateOnceItArrivesAndFollowsRotation() throws Exception {
    Pem one = Openssl.selfSigned(dir, "one");
    Pem two = Openssl.selfSigned(dir, "two");
    secrets("0");
    server = startServer(startControlPlane());

    // The secret is subscribed by name and not there yet: no handshake succeeds.
    await().atMost(WAIT).untilAsserted(() -> assertThat(controlPlane.requests).anySatisfy(r -> {
      assertThat(r.getTypeUrl()).isEqualTo(XdsResourceType.SECRET.typeUrl());
      assertThat(r.getResourceNamesList()).containsExactly("default");
    }));
    assertThatThrownBy(this::servedSubject).isInstanceOf(IOException.class);

    secrets("1", tlsCertificateSecret("default", one.certificate(), one.key()));
    await().atMost(WAIT).ignoreExceptions().until(() -> servedSubject().equals("CN=one"));
    assertThat(server.stats().counter("sds.default.update_success").value()).isEqualTo(1);
    assertThat(server.stats().gauge("sds.default.version").value()).isEqualTo(SubscriptionStats.hash("1"));

    // Rotation: a new snapshot, and the next connection sees the new certificate.
    secrets("2", tlsCertificateSecret("default", two.certificate(), two.key()));
    await().atMost(WAIT).until(() -> servedSubject().equals("CN=two"));
    String dump = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + server.adminPort() + "/config_dump?resource=dynamic_active_secrets")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    assertThat(dump).contains("\"name\": \"default\"", "\"version_info\": \"2\"", "\"last_updated\"",
        "\"inline_bytes\": \"W3JlZGFjdGVkXQ==\"").doesNotContain(two.key().lines().skip(1).findFirst().orElseThrow());

    // A secret whose key does not match its certificate is NACKed by name; "two" stays.
    secrets("3", tlsCertificateSecret("default", one.certificate(), two.key()));
    await().atMost(WAIT).untilAsserted(() -> assertThat(controlPlane.requests).anySatisfy(r -> {
      assertThat(r.hasErrorDetail()).isTrue();
      assertThat(r.getVersionInfo()).isEqualTo("2");
      assertThat(r.getErrorDetail().getMessage()).startsWith("Error adding/updating secret(s) default: ")
          .contains("does not match");
    }));
    assertThat(server.stats().counter("sds.default.update_rejected").value()).isPositive();
    assertThat(servedSubject()).isEqualTo("CN=two");
  }
}
