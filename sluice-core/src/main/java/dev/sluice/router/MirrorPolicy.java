package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.route.v3.RouteAction.RequestMirrorPolicy;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code request_mirror_policies} entry: which cluster gets a copy of the request, for
 * which share of requests, and whether its {@code :authority} gets Envoy's {@code -shadow} suffix.
 */
public final class MirrorPolicy {
  private final @Nullable String cluster;
  private final @Nullable AsciiString clusterHeader;
  private final @Nullable RuntimeFraction fraction;
  private final @Nullable Boolean traceSampled;
  private final boolean disableShadowHostSuffixAppend;

  private MirrorPolicy(
      @Nullable String cluster,
      @Nullable AsciiString clusterHeader,
      @Nullable RuntimeFraction fraction,
      @Nullable Boolean traceSampled,
      boolean disableShadowHostSuffixAppend) {
    this.cluster = cluster;
    this.clusterHeader = clusterHeader;
    this.fraction = fraction;
    this.traceSampled = traceSampled;
    this.disableShadowHostSuffixAppend = disableShadowHostSuffixAppend;
  }

  static MirrorPolicy compile(RequestMirrorPolicy p, String path) {
    boolean hasCluster = !p.getCluster().isEmpty();
    boolean hasHeader = !p.getClusterHeader().isEmpty();
    if (hasCluster == hasHeader) {
      throw new ConfigException(path, "exactly one of cluster and cluster_header is required");
    }
    RuntimeFraction fraction =
        p.hasRuntimeFraction() && p.getRuntimeFraction().hasDefaultValue()
            ? RuntimeFraction.of(p.getRuntimeFraction().getDefaultValue(), path + ".runtime_fraction.default_value")
            : null;
    return new MirrorPolicy(
        hasCluster ? p.getCluster() : null,
        hasHeader ? AsciiString.of(p.getClusterHeader().toLowerCase(Locale.ROOT)) : null,
        fraction,
        p.hasTraceSampled() ? p.getTraceSampled().getValue() : null,
        p.getDisableShadowHostSuffixAppend());
  }

  static List<MirrorPolicy> compileAll(List<RequestMirrorPolicy> list, String path) {
    List<MirrorPolicy> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      out.add(compile(list.get(i), path + "[" + i + "]"));
    }
    return List.copyOf(out);
  }

  /**
   * The cluster to mirror this request to: the configured one, or the first value of
   * {@code cluster_header}; null (no mirror) when that header is absent or empty.
   */
  public @Nullable String clusterName(Http2Headers requestHeaders) {
    if (cluster != null) {
      return cluster;
    }
    CharSequence v = clusterHeader == null ? null : requestHeaders.get(clusterHeader);
    return v == null || v.length() == 0 ? null : v.toString();
  }

  /** {@code runtime_fraction.default_value} sampling (every request when unset). */
  public boolean sampled(long random) {
    return fraction == null || fraction.enabled(random);
  }

  /** {@code trace_sampled}, or null to inherit the parent's sampling decision. */
  public @Nullable Boolean traceSampled() {
    return traceSampled;
  }

  /** {@code disable_shadow_host_suffix_append}. */
  public boolean disableShadowHostSuffixAppend() {
    return disableShadowHostSuffixAppend;
  }

  /**
   * Envoy's shadow authority: {@code -shadow} appended to the host name, before the port when
   * there is one ({@code foo:8080} becomes {@code foo-shadow:8080}).
   */
  public static String shadowAuthority(CharSequence authority) {
    String a = authority.toString();
    int colon = a.lastIndexOf(':');
    int bracket = a.lastIndexOf(']');
    if (colon > bracket && (bracket >= 0 || a.indexOf(':') == colon)) {
      return a.substring(0, colon) + "-shadow" + a.substring(colon);
    }
    return a + "-shadow";
  }

  @Override
  public String toString() {
    return "MirrorPolicy[" + (cluster != null ? cluster : "header " + clusterHeader) + "]";
  }
}
