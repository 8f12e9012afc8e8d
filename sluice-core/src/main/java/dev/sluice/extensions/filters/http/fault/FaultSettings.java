package dev.sluice.extensions.filters.http.fault;

import dev.sluice.router.HeaderMatcher;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One compiled {@code HTTPFault}, the filter's own or a route's ({@code typed_per_filter_config}
 * replaces the filter's settings as a whole, as in Envoy). The {@code *_runtime} keys are accepted
 * and their defaults used: Sluice has no runtime layer.
 *
 * @param maxActiveFaults {@code max_active_faults}, {@link Long#MAX_VALUE} when unset
 */
record FaultSettings(
    @Nullable DelayFault delay,
    @Nullable AbortFault abort,
    @Nullable ResponseRateLimit responseRateLimit,
    @Nullable String upstreamCluster,
    List<HeaderMatcher> headers,
    Set<String> downstreamNodes,
    long maxActiveFaults) {

  static FaultSettings compile(HTTPFault f) {
    DelayFault delay = f.hasDelay() ? DelayFault.compile(f.getDelay(), "delay") : null;
    AbortFault abort = f.hasAbort() ? AbortFault.compile(f.getAbort(), "abort") : null;
    ResponseRateLimit rateLimit = f.hasResponseRateLimit()
        ? ResponseRateLimit.compile(f.getResponseRateLimit(), "response_rate_limit") : null;
    List<HeaderMatcher> headers = new ArrayList<>();
    for (int i = 0; i < f.getHeadersCount(); i++) {
      headers.add(HeaderMatcher.compile(f.getHeaders(i), "headers[" + i + "]"));
    }
    return new FaultSettings(delay, abort, rateLimit, f.getUpstreamCluster().isEmpty() ? null : f.getUpstreamCluster(),
        List.copyOf(headers), Set.copyOf(f.getDownstreamNodesList()),
        f.hasMaxActiveFaults() ? Integer.toUnsignedLong(f.getMaxActiveFaults().getValue()) : Long.MAX_VALUE);
  }

  /**
   * Whether the request is one faults may apply to: its {@code x-envoy-downstream-service-node} is
   * listed (when {@code downstream_nodes} is set) and every {@code headers} matcher matches.
   */
  boolean matchesRequest(Http2Headers h) {
    if (!downstreamNodes.isEmpty()) {
      CharSequence node = h.get(FaultHeaders.DOWNSTREAM_NODE);
      if (node == null || !downstreamNodes.contains(node.toString())) {
        return false;
      }
    }
    for (HeaderMatcher m : headers) {
      if (!m.matches(h)) {
        return false;
      }
    }
    return true;
  }
}
