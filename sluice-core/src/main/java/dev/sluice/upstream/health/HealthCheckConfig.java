package dev.sluice.upstream.health;

import dev.sluice.api.config.ConfigException;
import dev.sluice.router.StringMatcher;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.type.v3.CodecClientType;
import io.envoyproxy.envoy.type.v3.Int64Range;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One validated cluster {@code health_checks} entry, with Envoy's defaults: {@code no_traffic_interval}
 * 60 s, {@code no_traffic_healthy_interval} = no_traffic_interval, {@code unhealthy_interval} =
 * interval, {@code unhealthy_edge_interval} = unhealthy_interval, {@code healthy_edge_interval} =
 * interval, {@code reuse_connection} true.
 *
 * @param altPort {@code alt_port}, 0 when the host's own port is checked
 */
public record HealthCheckConfig(
    Duration timeout,
    Duration interval,
    Duration initialJitter,
    Duration intervalJitter,
    int intervalJitterPercent,
    int unhealthyThreshold,
    int healthyThreshold,
    int altPort,
    boolean reuseConnection,
    Duration noTrafficInterval,
    Duration noTrafficHealthyInterval,
    Duration unhealthyInterval,
    Duration unhealthyEdgeInterval,
    Duration healthyEdgeInterval,
    boolean alwaysLogFailures,
    @Nullable Http http,
    @Nullable Tcp tcp,
    @Nullable Grpc grpc) {

  private static final Duration DEFAULT_NO_TRAFFIC_INTERVAL = Duration.ofSeconds(60);

  /** A request header to add: {@code append} adds a value, otherwise it replaces any. */
  public record Header(String name, String value, boolean append, boolean onlyIfAbsent) {}

  /**
   * {@code http_health_check}.
   *
   * @param host the {@code :authority}, empty for the cluster's name
   * @param expected half-open {@code [start, end)} status ranges; 200 only by default
   * @param serviceNameMatcher checks {@code x-envoy-upstream-healthchecked-cluster}, or null
   */
  public record Http(String host, String path, String method, List<Header> headersToAdd,
      List<String> headersToRemove, List<long[]> expected, List<long[]> retriable, boolean http2,
      @Nullable StringMatcher serviceNameMatcher) {

    boolean expects(int status) {
      return inRanges(expected, status);
    }

    boolean retriable(int status) {
      return inRanges(retriable, status);
    }

    private static boolean inRanges(List<long[]> ranges, int status) {
      for (long[] r : ranges) {
        if (status >= r[0] && status < r[1]) {
          return true;
        }
      }
      return false;
    }
  }

  /** {@code tcp_health_check}: bytes to send, and the blocks to find in order in the reply. */
  public record Tcp(byte[] send, List<byte[]> receive) {}

  /** {@code grpc_health_check}: {@code authority} empty for the cluster's name. */
  public record Grpc(String serviceName, String authority, List<Header> initialMetadata) {}

  /**
   * Validates the {@code health_checks} of a cluster (Envoy accepts at most one).
   *
   * @return null when there is none
   * @throws ConfigException naming {@code health_checks[0].<field>}
   */
  public static @Nullable HealthCheckConfig parse(List<HealthCheck> checks) {
    if (checks.isEmpty()) {
      return null;
    }
    if (checks.size() > 1) {
      throw new ConfigException("health_checks", "multiple health checks are not supported");
    }
    try {
      return parse(checks.getFirst());
    } catch (ConfigException e) {
      throw e.under("health_checks[0]");
    }
  }

  static HealthCheckConfig parse(HealthCheck c) {
    Duration timeout = positive(c.hasTimeout() ? c.getTimeout() : null, "timeout");
    Duration interval = positive(c.hasInterval() ? c.getInterval() : null, "interval");
    if (!c.hasUnhealthyThreshold()) {
      throw new ConfigException("unhealthy_threshold", "is required");
    }
    if (!c.hasHealthyThreshold()) {
      throw new ConfigException("healthy_threshold", "is required");
    }
    Duration noTraffic = c.hasNoTrafficInterval()
        ? positive(c.getNoTrafficInterval(), "no_traffic_interval") : DEFAULT_NO_TRAFFIC_INTERVAL;
    Duration noTrafficHealthy = c.hasNoTrafficHealthyInterval()
        ? positive(c.getNoTrafficHealthyInterval(), "no_traffic_healthy_interval") : noTraffic;
    Duration unhealthy = c.hasUnhealthyInterval()
        ? positive(c.getUnhealthyInterval(), "unhealthy_interval") : interval;
    Duration unhealthyEdge = c.hasUnhealthyEdgeInterval()
        ? positive(c.getUnhealthyEdgeInterval(), "unhealthy_edge_interval") : unhealthy;
    Duration healthyEdge = c.hasHealthyEdgeInterval()
        ? positive(c.getHealthyEdgeInterval(), "healthy_edge_interval") : interval;
    int altPort = c.hasAltPort() ? c.getAltPort().getValue() : 0;
    if (altPort > 65535) {
      throw new ConfigException("alt_port.value", "not a port: " + altPort);
    }
    Http http = null;
    Tcp tcp = null;
    Grpc grpc = null;
    switch (c.getHealthCheckerCase()) {
      case HTTP_HEALTH_CHECK -> http = http(c.getHttpHealthCheck());
      case TCP_HEALTH_CHECK -> tcp = new Tcp(
          c.getTcpHealthCheck().hasSend() ? payload(c.getTcpHealthCheck().getSend(), "tcp_health_check.send") : new byte[0],
          payloads(c.getTcpHealthCheck().getReceiveList(), "tcp_health_check.receive"));
      case GRPC_HEALTH_CHECK -> grpc = new Grpc(c.getGrpcHealthCheck().getServiceName(),
          c.getGrpcHealthCheck().getAuthority(),
          headers(c.getGrpcHealthCheck().getInitialMetadataList(), "grpc_health_check.initial_metadata"));
      case CUSTOM_HEALTH_CHECK -> throw new ConfigException("custom_health_check",
          "custom health checker '" + c.getCustomHealthCheck().getName() + "' is not supported");
      default -> throw new ConfigException("health_checker", "one of http_health_check, "
          + "tcp_health_check or grpc_health_check is required");
    }
    return new HealthCheckConfig(timeout, interval, nonNegative(c.getInitialJitter(), "initial_jitter"),
        nonNegative(c.getIntervalJitter(), "interval_jitter"), c.getIntervalJitterPercent(),
        c.getUnhealthyThreshold().getValue(), c.getHealthyThreshold().getValue(), altPort,
        !c.hasReuseConnection() || c.getReuseConnection().getValue(), noTraffic, noTrafficHealthy,
        unhealthy, unhealthyEdge, healthyEdge, c.getAlwaysLogHealthCheckFailures(), http, tcp, grpc);
  }

  private static Http http(HealthCheck.HttpHealthCheck h) {
    if (h.getPath().isEmpty()) {
      throw new ConfigException("http_health_check.path", "must not be empty");
    }
    if (h.getMethod() == RequestMethod.CONNECT) {
      throw new ConfigException("http_health_check.method", "CONNECT is not allowed");
    }
    if (h.getCodecClientType() == CodecClientType.HTTP3) {
      throw new ConfigException("http_health_check.codec_client_type", "HTTP3 is not supported");
    }
    String method = h.getMethod() == RequestMethod.METHOD_UNSPECIFIED || h.getMethod() == RequestMethod.UNRECOGNIZED
        ? "GET" : h.getMethod().name();
    List<long[]> expected = h.getExpectedStatusesCount() == 0 ? List.of(new long[] {200, 201})
        : ranges(h.getExpectedStatusesList(), "http_health_check.expected_statuses");
    StringMatcher service = h.hasServiceNameMatcher()
        ? StringMatcher.compile(h.getServiceNameMatcher(), "http_health_check.service_name_matcher") : null;
    return new Http(h.getHost(), h.getPath(), method,
        headers(h.getRequestHeadersToAddList(), "http_health_check.request_headers_to_add"),
        h.getRequestHeadersToRemoveList().stream().map(n -> n.toLowerCase(Locale.ROOT)).toList(),
        expected, ranges(h.getRetriableStatusesList(), "http_health_check.retriable_statuses"),
        h.getCodecClientType() == CodecClientType.HTTP2, service);
  }

  private static List<long[]> ranges(List<Int64Range> list, String path) {
    List<long[]> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Int64Range r = list.get(i);
      if (r.getStart() < 100 || r.getEnd() > 600 || r.getStart() >= r.getEnd()) {
        throw new ConfigException(path + "[" + i + "]",
            "must be a non-empty range within [100, 600), got [" + r.getStart() + ", " + r.getEnd() + ")");
      }
      out.add(new long[] {r.getStart(), r.getEnd()});
    }
    return List.copyOf(out);
  }

  private static List<Header> headers(List<HeaderValueOption> options, String path) {
    List<Header> out = new ArrayList<>();
    for (int i = 0; i < options.size(); i++) {
      HeaderValueOption o = options.get(i);
      String name = o.getHeader().getKey().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        throw new ConfigException(path + "[" + i + "].header.key", "must not be empty");
      }
      String value = o.getHeader().getRawValue().isEmpty() ? o.getHeader().getValue()
          : o.getHeader().getRawValue().toStringUtf8();
      boolean append;
      boolean onlyIfAbsent = false;
      if (o.hasAppend()) {
        append = o.getAppend().getValue();
      } else {
        append = o.getAppendAction() == HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD;
        onlyIfAbsent = o.getAppendAction() == HeaderAppendAction.ADD_IF_ABSENT;
      }
      out.add(new Header(name, value, append, onlyIfAbsent));
    }
    return List.copyOf(out);
  }

  private static List<byte[]> payloads(List<HealthCheck.Payload> list, String path) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      out.add(payload(list.get(i), path + "[" + i + "]"));
    }
    return List.copyOf(out);
  }

  /** A {@code Payload}: {@code text} is hex-encoded (as Envoy), {@code binary} the bytes. */
  static byte[] payload(HealthCheck.Payload p, String path) {
    return switch (p.getPayloadCase()) {
      case TEXT -> {
        try {
          yield HexFormat.of().parseHex(p.getText());
        } catch (IllegalArgumentException e) {
          throw new ConfigException(path + ".text", "not a hex string: " + p.getText());
        }
      }
      case BINARY -> p.getBinary().toByteArray();
      case PAYLOAD_NOT_SET -> throw new ConfigException(path, "text or binary is required");
    };
  }

  private static Duration positive(com.google.protobuf.@Nullable Duration d, String path) {
    if (d == null) {
      throw new ConfigException(path, "is required");
    }
    Duration value = Duration.ofSeconds(d.getSeconds(), d.getNanos());
    if (value.isNegative() || value.isZero()) {
      throw new ConfigException(path, "must be greater than 0, got " + value);
    }
    return value;
  }

  private static Duration nonNegative(com.google.protobuf.Duration d, String path) {
    Duration value = Duration.ofSeconds(d.getSeconds(), d.getNanos());
    if (value.isNegative()) {
      throw new ConfigException(path, "must not be negative, got " + value);
    }
    return value;
  }
}
