package dev.sluice.it.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** After a known number of requests, /stats and /stats/prometheus show Envoy's names and values. */
class StatsEndToEndTest {
  @Test
  void countersGaugesAndPrometheusAfterKnownTraffic() throws Exception {
    try (TestBackend b1 = new TestBackend("b1"); TestBackend b2 = new TestBackend("b2")) {
      String hcm = """
          route_config:
            name: stats
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{match: {prefix: /}, route: {cluster: svc}}]
          """;
      try (Server server = TestServers.start(ProxyConfig.bootstrap(
              List.of(ProxyConfig.staticCluster("svc", "ROUND_ROBIN", b1, b2)),
              List.of(ProxyConfig.httpListener("http", "ingress", hcm))));
          RawHttp client = new RawHttp(server.listenerPort("http"))) {
        for (int i = 0; i < 7; i++) {
          assertThat(client.get("svc", "/ok").status()).isEqualTo(200);
        }
        for (int i = 0; i < 3; i++) {
          assertThat(client.get("svc", "/status/404").status()).isEqualTo(404);
        }
        // Envoy names the listener scope after the configured address: port 0 stays 0.
        String listener = "listener.127.0.0.1_0";
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
          String stats = Admin.get(server, "/stats");
          assertThat(stats).contains(
              "http.ingress.downstream_rq_total: 10\n",
              "http.ingress.downstream_rq_completed: 10\n",
              "http.ingress.downstream_rq_2xx: 7\n",
              "http.ingress.downstream_rq_4xx: 3\n",
              "http.ingress.downstream_rq_http1_total: 10\n",
              "http.ingress.downstream_cx_total: 1\n",
              "http.ingress.rq_total: 10\n",
              "http.ingress.downstream_cx_active: 1\n",
              "cluster.svc.upstream_rq_total: 10\n",
              "cluster.svc.upstream_rq_completed: 10\n",
              "cluster.svc.upstream_rq_200: 7\n",
              "cluster.svc.upstream_rq_2xx: 7\n",
              "cluster.svc.upstream_rq_404: 3\n",
              "cluster.svc.upstream_rq_4xx: 3\n",
              "cluster.svc.upstream_cx_total: 2\n",
              "cluster.svc.upstream_cx_active: 2\n",
              "cluster.svc.upstream_cx_http1_total: 2\n",
              "cluster.svc.membership_healthy: 2\n",
              "cluster.svc.membership_total: 2\n",
              listener + ".downstream_cx_total: 1\n",
              listener + ".downstream_cx_active: 1\n");
        });
        String prometheus = Admin.get(server, "/stats/prometheus");
        assertThat(prometheus)
            .contains("# TYPE envoy_cluster_upstream_rq_total counter\n")
            .contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"svc\"} 10\n")
            .contains("envoy_cluster_membership_healthy{envoy_cluster_name=\"svc\"} 2\n")
            .containsPattern("envoy_cluster_upstream_rq\\{envoy_response_code=\"200\",envoy_cluster_name=\"svc\"} 7\n")
            .containsPattern("envoy_http_downstream_rq_xx\\{envoy_response_code_class=\"2\",envoy_http_conn_manager_prefix=\"ingress\"} 7\n")
            .containsPattern("envoy_listener_downstream_cx_total\\{envoy_listener_address=\"127.0.0.1_0\"} 1\n");
      }
    }
  }
}
