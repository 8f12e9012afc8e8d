package dev.sluice.mesh.demo.netns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the demo writes into the pods: /etc/hosts with the service VIPs, Istio's iptables rules. */
class NetnsDemoTest {
  @Test
  void hostsGiveEveryServiceNameItsVip() {
    ServiceRegistry registry = new ServiceRegistry(List.of(
        new MeshService("reviews", "default", "reviews.default.svc.cluster.local", "10.96.1.3",
            List.of(new ServicePort("http", 9080, 9080, "HTTP")), Map.of("app", "reviews")),
        new MeshService("api.example.com", "default", "api.example.com", "10.96.1.9", List.of(), Map.of())), List.of());
    assertThat(NetnsDemo.hosts(registry)).isEqualTo("""
        127.0.0.1 localhost
        10.96.1.3 reviews.default.svc.cluster.local reviews reviews.default reviews.default.svc
        10.96.1.9 api.example.com
        """);
  }

  @Test
  void iptablesRulesAreIstiosRedirectModeWithOutboundCaptureOfEverything() throws Exception {
    String rules;
    try (InputStream in = NetnsDemo.class.getResourceAsStream("istio-iptables.rules")) {
      assertThat(in).isNotNull();
      rules = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(rules).contains("* nat\n", "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001\n",
        "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006\n", "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN\n",
        "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN\n");
    assertThat(rules).endsWith("-A ISTIO_OUTPUT -j ISTIO_REDIRECT\nCOMMIT\n");
  }
}
