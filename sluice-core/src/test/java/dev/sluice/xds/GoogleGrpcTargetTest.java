package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.directResponse;
import static dev.sluice.testing.XdsProtos.httpListener;
import static dev.sluice.testing.XdsProtos.inlineConnectionManager;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.Openssl;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ADS through a {@code google_grpc} service (a gRPC target URI instead of a bootstrap cluster), as
 * Envoy's Google gRPC client: a {@code host:port} target, a {@code unix:} one, and mutual TLS from
 * {@code channel_credentials.ssl_credentials} with an access token and {@code initial_metadata},
 * each serving a listener from java-control-plane.
 */
class GoogleGrpcTargetTest {
  private static final String GROUP = "sidecar";

  @TempDir Path dir;
  private final SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
  private TestControlPlane controlPlane;
  private io.grpc.Server tlsControlPlane;
  private Server server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
    if (tlsControlPlane != null) {
      tlsControlPlane.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void hostAndPortTarget() throws Exception {
    controlPlane = TestControlPlane.start(cache, Service.ADS);
    assertServesOver("127.0.0.1:" + controlPlane.port());
  }

  @Test
  void unixDomainSocketTarget() throws Exception {
    assumeThat(Epoll.isAvailable()).as("epoll (Unix domain sockets)").isTrue();
    Path socket = dir.resolve("XDS");
    controlPlane = TestControlPlane.startOnUnixSocket(socket, cache, Service.ADS);
    assertServesOver("unix:" + socket);
  }

  @Test
  void mutualTlsChannelCredentialsAndMetadata() throws Exception {
    Openssl.selfSigned(dir, "control-plane", "-addext", "subjectAltName=DNS:localhost");
    Openssl.selfSigned(dir, "proxy");
    Map<String, String> seen = new ConcurrentHashMap<>();
    ServerInterceptor headers = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata h, ServerCallHandler<Q, R> next) {
        for (String key : List.of("authorization", "x-cluster-id")) {
          String v = h.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
          if (v != null) {
            seen.put(key, v);
          }
        }
        return next.startCall(call, h);
      }
    };
    tlsControlPlane = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(GrpcSslContexts.forServer(dir.resolve("control-plane.crt").toFile(), dir.resolve("control-plane.key").toFile())
            .trustManager(dir.resolve("proxy.crt").toFile()).clientAuth(ClientAuth.REQUIRE).build())
        .addService(ServerInterceptors.intercept(new V3DiscoveryServer(cache).getAggregatedDiscoveryServiceImpl(), headers))
        .build().start();
    assertServesOver("localhost:" + tlsControlPlane.getPort(), """
        channel_credentials: {ssl_credentials: {root_certs: {filename: '%s'}, cert_chain: {filename: '%s'},
          private_key: {filename: '%s'}}}
        call_credentials: [{access_token: secret-token}]
        """.formatted(dir.resolve("control-plane.crt"), dir.resolve("proxy.crt"), dir.resolve("proxy.key")),
        "initial_metadata: [{key: x-cluster-id, value: Kubernetes}]");
    assertThat(seen).containsEntry("authorization", "Bearer secret-token").containsEntry("x-cluster-id", "Kubernetes");
  }

  @Test
  void tlsThroughAnEnvoyGrpcClusterIsRefusedAtStartUpNotSentInPlaintext() {
    assertThatThrownBy(() -> TestServers.start("""
        node: {id: sidecar~127.0.0.1~test~default, cluster: test}
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: xds-grpc
            type: STATIC
            load_assignment:
              cluster_name: xds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 15012}}}}]}]
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext}
        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
          cds_config: {ads: {}, resource_api_version: V3}
        """)).hasMessageContaining("ads_config.grpc_services[0].envoy_grpc.cluster_name")
        .hasMessageContaining("TLS to the control plane through an envoy_grpc cluster is not supported");
  }

  @Test
  void unixTargets() {
    assertThat(XdsChannels.unixPath("unix:/var/run/xds.sock")).isEqualTo("/var/run/xds.sock");
    assertThat(XdsChannels.unixPath("unix:///var/run/xds.sock")).isEqualTo("/var/run/xds.sock");
    assertThat(XdsChannels.unixPath("unix:relative/xds.sock")).isEqualTo("relative/xds.sock");
    assertThat(XdsChannels.unixPath("dns:///istiod:15012")).isNull();
  }

  private void assertServesOver(String target) throws Exception {
    assertServesOver(target, "", "");
  }

  /** Starts a server whose ADS goes to {@code target} ({@code googleGrpc}: more GoogleGrpc fields, {@code service}: more GrpcService fields). */
  private void assertServesOver(String target, String googleGrpc, String service) throws Exception {
    cache.setSnapshot(GROUP, Snapshot.create(List.of(), List.of(), List.of(listener()), List.of(), List.of(), "1"));
    server = TestServers.start("""
        node: {id: sidecar~127.0.0.1~test~default, cluster: test}
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services:
            - google_grpc:
                target_uri: '%s'
                stat_prefix: ads
        %s
        %s
          cds_config: {ads: {}, resource_api_version: V3}
          lds_config: {ads: {}, resource_api_version: V3}
        """.formatted(target, googleGrpc.indent(8).stripTrailing(), service.indent(6).stripTrailing()));
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("http") + "/"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("from xds");
    assertThat(server.stats().gauge("control_plane.connected_state").value()).isEqualTo(1);
  }

  /** The listener {@code http}, answering every request with 200 "from xds". */
  private static Listener listener() {
    return httpListener("http", inlineConnectionManager("ingress_http", directResponse("local", 200, "from xds")));
  }
}
