package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.MeshResource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A parsed {@code networking.istio.io} VirtualService (its HTTP part, the part this mesh routes).
 * Absent fields are null or empty; {@link IstioParser} has reported every malformed one.
 */
public record VirtualService(MeshResource resource, List<String> hosts, List<String> gateways, List<HttpRoute> http) {

  /** One {@code spec.http[i]}. */
  public record HttpRoute(
      @Nullable String name,
      List<HttpMatch> match,
      List<RouteDestination> route,
      @Nullable Redirect redirect,
      @Nullable Rewrite rewrite,
      @Nullable Duration timeout,
      @Nullable Retries retries,
      @Nullable Fault fault,
      @Nullable Destination mirror,
      @Nullable Double mirrorPercentage,
      @Nullable CorsPolicy corsPolicy,
      HeaderOps requestHeaders,
      HeaderOps responseHeaders) {}

  public record HttpMatch(
      @Nullable String name,
      @Nullable StringMatch uri,
      @Nullable StringMatch scheme,
      @Nullable StringMatch method,
      @Nullable StringMatch authority,
      Map<String, StringMatch> headers,
      Map<String, StringMatch> queryParams,
      Map<String, StringMatch> withoutHeaders,
      boolean ignoreUriCase,
      @Nullable Integer port,
      Map<String, String> sourceLabels,
      List<String> gateways) {}

  /** Istio's StringMatch: exactly one of exact, prefix, regex ({@code value} is empty for a header that must merely be present: {@code {}}). */
  public record StringMatch(Kind kind, String value) {
    public enum Kind { EXACT, PREFIX, REGEX, PRESENT }
  }

  public record Destination(String host, @Nullable String subset, @Nullable Integer port) {}

  public record RouteDestination(Destination destination, @Nullable Integer weight, HeaderOps requestHeaders, HeaderOps responseHeaders) {}

  public record Redirect(@Nullable String uri, @Nullable String authority, @Nullable Integer port, @Nullable String scheme, int redirectCode) {}

  public record Rewrite(@Nullable String uri, @Nullable String authority) {}

  public record Retries(int attempts, @Nullable Duration perTryTimeout, @Nullable String retryOn) {}

  public record Fault(@Nullable Duration delay, @Nullable Double delayPercentage, @Nullable Integer abortStatus, @Nullable Double abortPercentage) {}

  public record CorsPolicy(
      List<StringMatch> allowOrigins,
      List<String> allowMethods,
      List<String> allowHeaders,
      List<String> exposeHeaders,
      @Nullable Duration maxAge,
      @Nullable Boolean allowCredentials) {}

  /** {@code headers.request} or {@code headers.response}: set (overwrite), add (append), remove. */
  public record HeaderOps(Map<String, String> set, Map<String, String> add, List<String> remove) {
    public static final HeaderOps NONE = new HeaderOps(Map.of(), Map.of(), List.of());

    public boolean isEmpty() {
      return set.isEmpty() && add.isEmpty() && remove.isEmpty();
    }
  }
}
