package dev.sluice.extensions.filters.http.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code retry_on: refused-stream} against a real HTTP/2 upstream that answers RST_STREAM with
 * REFUSED_STREAM ({@link RefusingH2Upstream}): such a stream is retried by that condition (and by
 * {@code 5xx}, which covers resets), not by others, which answer 503 with the reset reason.
 */
class RefusedStreamRetryIntegrationTest {
  static RefusingH2Upstream upstream;
  static Server server;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    upstream = new RefusingH2Upstream();
    String fast = "retry_back_off: {base_interval: 0.002s, max_interval: 0.005s}";
    server = TestServers.start(("""
        static_resources:
          listeners:
        """ + ProxyYaml.hcmListener("l", "in", """
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      include_attempt_count_in_response: true
                      routes:
                      - {match: {prefix: /refused/}, route: {cluster: h2, retry_policy: {retry_on: refused-stream, num_retries: 2, %1$s}}}
                      - {match: {prefix: /5xx/}, route: {cluster: h2, retry_policy: {retry_on: 5xx, num_retries: 2, %1$s}}}
                      - {match: {prefix: /other/}, route: {cluster: h2, retry_policy: {retry_on: retriable-4xx, num_retries: 2, %1$s}}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  """) + """
          clusters:
          - name: h2
            type: STATIC
            connect_timeout: 1s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: h2
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %2$d}}}}]}]
        """).formatted(fast, upstream.port()));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  private static HttpResponse<String> get(String path, String key, int refuse) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("l") + path))
        .header("x-key", key).header("x-refuse", Integer.toString(refuse)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static long counter(String name) {
    return server.stats().counter("cluster.h2." + name).value();
  }

  @Test
  void aRefusedStreamIsRetriedByRefusedStream() throws Exception {
    long retries = counter("upstream_rq_retry");
    HttpResponse<String> r = get("/refused/", "a", 2);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("ok");
    assertThat(r.headers().firstValue("x-envoy-attempt-count")).hasValue("3");
    assertThat(upstream.count("a")).isEqualTo(3);
    assertThat(counter("upstream_rq_retry") - retries).isEqualTo(2);
  }

  @Test
  void aRefusedStreamIsRetriedBy5xx() throws Exception {
    HttpResponse<String> r = get("/5xx/", "b", 1);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(upstream.count("b")).isEqualTo(2);
  }

  @Test
  void otherConditionsDoNotRetryARefusedStream() throws Exception {
    HttpResponse<String> r = get("/other/", "c", 1);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("reset reason: remote refused stream reset");
    assertThat(upstream.count("c")).isEqualTo(1);
  }

  @Test
  void refusalsBeyondTheRetriesAnswer503() throws Exception {
    HttpResponse<String> r = get("/refused/", "d", 5);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("x-envoy-attempt-count")).hasValue("3");
    assertThat(upstream.count("d")).isEqualTo(3);
  }
}
