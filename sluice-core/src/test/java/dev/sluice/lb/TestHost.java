package dev.sluice.lb;

import dev.sluice.testing.SimpleHost;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;

/** A host for balancer tests: fixed address and weight, settable health. */
final class TestHost extends SimpleHost {
  TestHost(String ip, int port, int weight) {
    super(new InetSocketAddress(ip, port), weight, Metadata.getDefaultInstance(), null);
  }

  static TestHost of(int n) {
    return new TestHost("10.0." + (n / 250) + "." + (n % 250 + 1), 80, 1);
  }

  TestHost unhealthy() {
    healthy = false;
    return this;
  }

  TestHost markDegraded() {
    healthy = false;
    degraded = true;
    return this;
  }
}
