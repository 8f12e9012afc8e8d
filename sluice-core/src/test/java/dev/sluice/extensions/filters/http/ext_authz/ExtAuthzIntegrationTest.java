package dev.sluice.extensions.filters.http.ext_authz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ext_authz through a full server, against a real gRPC {@code envoy.service.auth.v3.Authorization}
 * server written here with grpc-java, and a real backend. The HTTP filter chain is Istio's CUSTOM
 * action: a shadow RBAC filter whose DENY policy matches {@code /ext} writes
 * {@code istio_ext_authz_shadow_effective_policy_id}, and ext_authz runs only when that metadata
 * names an {@code istio-ext-authz} policy. Further listeners reach an authorization cluster where
 * nothing listens: one fails closed with {@code status_on_error}, one fails open.
 */
class ExtAuthzIntegrationTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final ConcurrentLinkedQueue<CheckRequest> CHECKS = new ConcurrentLinkedQueue<>();
  private static TestBackend backend;
  private static io.grpc.Server authz;
  private static Server server;

  /** Allows unless the path starts with /ext/deny; /ext/hang is never answered. */
  private static final class Authorizer extends AuthorizationGrpc.AuthorizationImplBase {
    @Override
    public void check(CheckRequest request, StreamObserver<CheckResponse> out) {
      CHECKS.add(request);
      String path = request.getAttributes().getRequest().getHttp().getPath();
      if (path.startsWith("/ext/hang")) {
        return;
      }
      if (path.startsWith("/ext/deny")) {
        out.onNext(CheckResponse.newBuilder()
            .setStatus(com.google.rpc.Status.newBuilder().setCode(7))
            .setDeniedResponse(DeniedHttpResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCode(StatusCode.Unauthorized))
                .addHeaders(header("x-denied-by", "authz", false))
                .setBody("go away"))
            .build());
      } else {
        out.onNext(CheckResponse.newBuilder()
            .setStatus(com.google.rpc.Status.newBuilder().setCode(0))
            .setOkResponse(OkHttpResponse.newBuilder()
                .addHeaders(header("x-authz", "ok", false))
                .addHeaders(header("x-tag", "added", true))
                .addHeadersToRemove("x-remove-me")
                .addResponseHeadersToAdd(header("x-authz-response", "yes", false)))
            .setDynamicMetadata(Struct.newBuilder().putFields("user", Value.newBuilder().setStringValue("alice").build()))
            .build());
      }
      out.onCompleted();
    }
  }

  private static HeaderValueOption header(String name, String value, boolean append) {
    return HeaderValueOption.newBuilder().setHeader(HeaderValue.newBuilder().setKey(name).setValue(value))
        .setAppend(BoolValue.of(append)).build();
  }

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("app");
    authz = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(new Authorizer()).build().start();
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    server = TestServers.start(("""
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: app
            type: STATIC
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          - name: authz
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: authz
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          - name: nowhere
            type: STATIC
            connect_timeout: 1s
            load_assignment:
              cluster_name: nowhere
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          listeners:
        """ + ProxyYaml.hcmListener("in", "inbound", """
                  stream_idle_timeout: 10s
                  route_config:
                    virtual_hosts:
                    - name: app
                      domains: ["*"]
                      routes:
                      - match: {prefix: /ext/off}
                        route: {cluster: app}
                        typed_per_filter_config:
                          envoy.filters.http.ext_authz:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                            disabled: true
                      - match: {prefix: /ext/}
                        route: {cluster: app, prefix_rewrite: /}
                        typed_per_filter_config:
                          envoy.filters.http.ext_authz:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                            check_settings: {context_extensions: {route: main}}
                      - match: {prefix: /}
                        route: {cluster: app}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      shadow_rules:
                        action: DENY
                        policies:
                          istio-ext-authz-ns[default]-policy[ext]-rule[0]:
                            permissions: [{url_path: {path: {prefix: /ext}}}]
                            principals: [{any: true}]
                      shadow_rules_stat_prefix: istio_ext_authz_
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      grpc_service: {envoy_grpc: {cluster_name: authz, authority: authz.local}, timeout: 0.3s}
                      transport_api_version: V3
                      with_request_body: {max_request_bytes: 16}
                      metadata_context_namespaces: [envoy.filters.http.rbac]
                      filter_enabled_metadata:
                        filter: envoy.filters.http.rbac
                        path: [{key: istio_ext_authz_shadow_effective_policy_id}]
                        value: {string_match: {prefix: istio-ext-authz}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  """) + ProxyYaml.hcmListener("closed", "closed", """
                  route_config:
                    virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
                  http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      grpc_service: {envoy_grpc: {cluster_name: nowhere}}
                      status_on_error: {code: ServiceUnavailable}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  """) + ProxyYaml.hcmListener("open", "open", """
                  route_config:
                    virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
                  http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      grpc_service: {envoy_grpc: {cluster_name: nowhere}}
                      failure_mode_allow: true
                      failure_mode_allow_header_add: true
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  """)).formatted(backend.port(), authz.getPort(), closedPort));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (authz != null) {
      authz.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (backend != null) {
      backend.close();
    }
  }

  private static HttpResponse<String> send(String listener, String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort(listener) + path))
        .header("x-remove-me", "1")
        .method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long counter(String name) {
    return server.stats().counter(name).value();
  }

  private static CheckRequest lastCheck(String path) {
    return CHECKS.stream().filter(c -> c.getAttributes().getRequest().getHttp().getPath().equals(path)).reduce((a, b) -> b)
        .orElseThrow(() -> new AssertionError("no check for " + path));
  }

  @Test
  void anAllowedRequestReachesTheBackendWithTheServicesHeaderMutations() throws Exception {
    long ok = counter("http.inbound.ext_authz.ok");
    HttpResponse<String> r = send("in", "GET", "/ext/headers", "");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-authz-response")).hasValue("yes");
    assertThat(r.body()).contains("x-authz: ok").contains("x-tag: added").doesNotContain("x-remove-me");
    assertThat(counter("http.inbound.ext_authz.ok")).isEqualTo(ok + 1);

    CheckRequest check = lastCheck("/ext/headers");
    var http = check.getAttributes().getRequest().getHttp();
    assertThat(http.getMethod()).isEqualTo("GET");
    assertThat(http.getHeadersMap()).containsEntry("x-remove-me", "1").containsKey(":authority");
    assertThat(http.getProtocol()).isEqualTo("HTTP/1.1");
    assertThat(check.getAttributes().getSource().getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
    assertThat(check.getAttributes().getContextExtensionsMap()).containsEntry("route", "main");
    // The shadow RBAC verdict travels as metadata context.
    assertThat(check.getAttributes().getMetadataContext().getFilterMetadataMap().get("envoy.filters.http.rbac").getFieldsMap())
        .containsEntry("istio_ext_authz_shadow_effective_policy_id",
            Value.newBuilder().setStringValue("istio-ext-authz-ns[default]-policy[ext]-rule[0]").build())
        .containsEntry("istio_ext_authz_shadow_engine_result", Value.newBuilder().setStringValue("denied").build());
  }

  @Test
  void theRequestBodyIsSentUpToMaxRequestBytesAndABiggerOneIsRefused() throws Exception {
    HttpResponse<String> r = send("in", "POST", "/ext/echo", "hello authz");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello authz");
    assertThat(r.headers().firstValue("x-backend")).hasValue("app");
    var http = lastCheck("/ext/echo").getAttributes().getRequest().getHttp();
    assertThat(http.getBody()).isEqualTo("hello authz");
    assertThat(http.getSize()).isEqualTo(11);

    int served = backend.requests.get();
    assertThat(send("in", "POST", "/ext/echo/big", "x".repeat(100)).statusCode()).isEqualTo(413);
    assertThat(backend.requests.get()).isEqualTo(served);
  }

  @Test
  void aDeniedRequestGetsTheServicesAnswerWithoutReachingTheBackend() throws Exception {
    long denied = counter("http.inbound.ext_authz.denied");
    int served = backend.requests.get();
    HttpResponse<String> r = send("in", "GET", "/ext/deny", "");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).isEqualTo("go away");
    assertThat(r.headers().firstValue("x-denied-by")).hasValue("authz");
    assertThat(counter("http.inbound.ext_authz.denied")).isEqualTo(denied + 1);
    assertThat(backend.requests.get()).isEqualTo(served);
  }

  @Test
  void aDeniedRequestOverHttp2() throws Exception {
    Process p = new ProcessBuilder("curl", "-sS", "-i", "--http2-prior-knowledge", "--max-time", "10",
        "http://127.0.0.1:" + server.listenerPort("in") + "/ext/deny/h2").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    assertThat(out).startsWith("HTTP/2 401").contains("x-denied-by: authz").endsWith("go away");
    assertThat(lastCheck("/ext/deny/h2").getAttributes().getRequest().getHttp().getProtocol()).isEqualTo("HTTP/2");
  }

  @Test
  void withoutTheShadowPolicysMetadataTheCheckIsSkipped() throws Exception {
    long disabled = counter("http.inbound.ext_authz.disabled");
    int checks = CHECKS.size();
    assertThat(send("in", "GET", "/plain", "").statusCode()).isEqualTo(200);
    assertThat(counter("http.inbound.ext_authz.disabled")).isEqualTo(disabled + 1);
    assertThat(CHECKS).hasSize(checks);
  }

  @Test
  void aRouteCanDisableTheFilter() throws Exception {
    int checks = CHECKS.size();
    assertThat(send("in", "GET", "/ext/off", "").statusCode()).isEqualTo(200);
    assertThat(CHECKS).hasSize(checks);
  }

  @Test
  void anUnansweredCheckTimesOutAsAnError() throws Exception {
    long errors = counter("http.inbound.ext_authz.error");
    HttpResponse<String> r = send("in", "GET", "/ext/hang", "");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(counter("http.inbound.ext_authz.error")).isEqualTo(errors + 1);
  }

  @Test
  void anUnreachableServiceFailsClosedWithStatusOnError() throws Exception {
    int served = backend.requests.get();
    assertThat(send("closed", "GET", "/x", "").statusCode()).isEqualTo(503);
    assertThat(counter("http.closed.ext_authz.error")).isEqualTo(1);
    assertThat(backend.requests.get()).isEqualTo(served);
  }

  @Test
  void failureModeAllowLetsTheRequestThroughAndSaysSo() throws Exception {
    HttpResponse<String> r = send("open", "GET", "/headers", "");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("x-envoy-auth-failure-mode-allowed: true");
    assertThat(counter("http.open.ext_authz.error")).isEqualTo(1);
    assertThat(counter("http.open.ext_authz.failure_mode_allowed")).isEqualTo(1);
  }
}
