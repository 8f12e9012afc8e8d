package dev.sluice.upstream;

import dev.sluice.api.config.ConfigException;
import dev.sluice.lb.LbConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Shared by STRICT_DNS and LOGICAL_DNS: each endpoint name is resolved on the resolver executor,
 * the answer (filtered by {@code dns_lookup_family}) is applied on the control thread, and the next
 * resolution is scheduled after {@code dns_refresh_rate} (5 s by default), or after
 * {@code dns_failure_refresh_rate.base_interval} when the lookup failed. The cluster is warm once
 * every name has been tried once, as Envoy's.
 */
abstract class DnsCluster extends ClusterImpl {
  /** One name to resolve and what the last answer produced. */
  static final class Target {
    final EndpointSpec spec;
    List<HostImpl> hosts = List.of();
    boolean tried;
    @Nullable ScheduledFuture<?> timer;

    Target(EndpointSpec spec) {
      this.spec = spec;
    }
  }

  final List<Target> targets = new ArrayList<>();
  final int overprovisioningFactor;
  private final ClusterContext ctx;
  private final Cluster.DnsLookupFamily family;
  private final Duration refreshRate;
  private final Duration failureRefreshRate;
  private volatile boolean stopped;

  DnsCluster(ClusterInfoImpl info, LbConfig lbConfig, ClusterContext ctx) {
    super(info, lbConfig, ctx.concurrency(), ctx.seed(), true, ctx.events());
    this.ctx = ctx;
    Cluster config = info.config();
    this.family = config.getDnsLookupFamily();
    this.refreshRate = config.hasDnsRefreshRate()
        ? duration(config.getDnsRefreshRate(), "dns_refresh_rate") : Duration.ofSeconds(5);
    this.failureRefreshRate = config.getDnsFailureRefreshRate().hasBaseInterval()
        ? duration(config.getDnsFailureRefreshRate().getBaseInterval(), "dns_failure_refresh_rate.base_interval")
        : refreshRate;
    LoadAssignment assignment = LoadAssignment.parse(config.getLoadAssignment(), "load_assignment", false);
    this.overprovisioningFactor = assignment.overprovisioningFactor();
    for (EndpointSpec s : assignment.endpoints()) {
      // A DNS host's hostname is the name it was resolved from, unless the endpoint names one.
      String hostname = s.hostname().isEmpty() ? s.address() : s.hostname();
      targets.add(new Target(new EndpointSpec(s.priority(), s.locality(), s.localityWeight(),
          s.address(), s.port(), hostname, s.weight(), s.metadata(), s.healthStatus(), null,
          s.healthCheckConfig())));
    }
  }

  private static Duration duration(com.google.protobuf.Duration d, String path) {
    Duration value = Duration.ofSeconds(d.getSeconds(), d.getNanos());
    if (value.compareTo(Duration.ofMillis(1)) <= 0) {
      throw new ConfigException(path, "must be greater than 1ms");
    }
    return value;
  }

  @Override
  void start() {
    if (targets.isEmpty()) {
      markWarm();
    }
    for (Target t : targets) {
      resolve(t);
    }
  }

  @Override
  void stop() {
    stopped = true;
    for (Target t : targets) {
      if (t.timer != null) {
        t.timer.cancel(false);
      }
    }
  }

  private void resolve(Target target) {
    if (stopped) {
      return;
    }
    info().stats().updateAttempt.inc();
    String name = target.spec.address();
    ctx.resolverExecutor().execute(() -> {
      List<InetAddress> answer = null;
      try {
        answer = DnsLookupFamily.filter(family, ctx.resolver().resolve(name));
      } catch (Exception e) {
        // A failed lookup keeps the previous hosts; counted as update_failure below.
      }
      List<InetAddress> result = answer;
      ctx.control().execute(() -> onResolved(target, result));
    });
  }

  private void onResolved(Target target, @Nullable List<InetAddress> answer) {
    if (stopped) {
      return;
    }
    var stats = info().stats();
    if (answer == null) {
      stats.updateFailure.inc();
    } else {
      stats.updateSuccess.inc();
      if (answer.isEmpty()) {
        stats.updateEmpty.inc();
      }
      List<InetSocketAddress> addresses = new ArrayList<>(answer.size());
      for (InetAddress a : answer) {
        addresses.add(new InetSocketAddress(a, target.spec.port()));
      }
      apply(target, addresses);
    }
    target.tried = true;
    if (targets.stream().allMatch(t -> t.tried)) {
      markWarm();
    }
    long delay = (answer == null ? failureRefreshRate : refreshRate).toNanos();
    target.timer = ctx.control().schedule(() -> resolve(target), delay, TimeUnit.NANOSECONDS);
  }

  /** Applies a successful answer for one target; control thread. */
  abstract void apply(Target target, List<InetSocketAddress> addresses);
}
