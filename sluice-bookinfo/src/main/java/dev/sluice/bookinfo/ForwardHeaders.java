package dev.sluice.bookinfo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The request headers every Bookinfo service copies from its incoming request onto its outgoing
 * calls (the list the original services keep in sync): trace context in its several dialects,
 * {@code x-request-id}, and the user context ({@code end-user}, cookies, credentials). This is what
 * lets header-based routing ({@code end-user: jason}) apply two hops down and joins traces.
 */
public final class ForwardHeaders {
  public static final List<String> NAMES =
      List.of(
          "x-request-id",
          "x-ot-span-context",
          "x-datadog-trace-id",
          "x-datadog-parent-id",
          "x-datadog-sampling-priority",
          "traceparent",
          "tracestate",
          "x-cloud-trace-context",
          "grpc-trace-bin",
          "x-b3-traceid",
          "x-b3-spanid",
          "x-b3-parentspanid",
          "x-b3-sampled",
          "x-b3-flags",
          "sw8",
          "end-user",
          "user-agent",
          "cookie",
          "authorization",
          "jwt");

  private ForwardHeaders() {}

  /** The listed headers present on {@code request}, first value each, in list order. */
  public static Map<String, String> from(ServiceRequest request) {
    var forwarded = new LinkedHashMap<String, String>();
    for (String name : NAMES) {
      String value = request.header(name);
      if (value != null) {
        forwarded.put(name, value);
      }
    }
    return forwarded;
  }
}
