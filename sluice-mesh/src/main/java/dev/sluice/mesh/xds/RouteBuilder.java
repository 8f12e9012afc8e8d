package dev.sluice.mesh.xds;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import dev.sluice.mesh.istio.IstioConfig;
import dev.sluice.mesh.istio.IstioValidator;
import dev.sluice.mesh.istio.VirtualService;
import dev.sluice.mesh.istio.VirtualService.Destination;
import dev.sluice.mesh.istio.VirtualService.HeaderOps;
import dev.sluice.mesh.istio.VirtualService.HttpMatch;
import dev.sluice.mesh.istio.VirtualService.HttpRoute;
import dev.sluice.mesh.istio.VirtualService.RouteDestination;
import dev.sluice.mesh.istio.VirtualService.StringMatch;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.Decorator;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Virtual hosts and routes as istiod's route translation ({@code pilot/pkg/networking/core/route})
 * makes them: one route per VirtualService match (or one match-all), named after the HTTP route
 * ({@code name.matchName}), {@code weighted_clusters} for split traffic, header matches as
 * {@code string_match}, timeout {@code 0s} unless set, Istio's default retry policy unless
 * {@code retries} says otherwise, faults and CORS as {@code typed_per_filter_config}, the
 * VirtualService's config path in the route metadata and the operation decorator.
 */
final class RouteBuilder {
  /** What the default retry policy retries on (istiod's {@code retry.DefaultPolicy}). */
  static final String DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

  private final IstioConfig config;
  private final ServiceRegistry registry;

  RouteBuilder(IstioConfig config, ServiceRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  /** Which VirtualServices apply, and where: the sidecar ({@code mesh}) or a gateway. */
  record Scope(@Nullable String gateway, Map<String, String> proxyLabels) {
    static Scope mesh(Map<String, String> labels) {
      return new Scope(null, labels);
    }

    /** Istio's rule: no {@code gateways} means {@code mesh}; a gateway is named {@code ns/name} or {@code name} in the VS's namespace. */
    boolean applies(List<String> gateways, String vsNamespace) {
      if (gateway == null) {
        return gateways.isEmpty() || gateways.contains("mesh");
      }
      for (String g : gateways) {
        String q = g.contains("/") ? g : vsNamespace + "/" + g;
        if (q.equals(gateway)) {
          return true;
        }
      }
      return false;
    }
  }

  /** The sidecar virtual host of one service port: its VirtualService's routes, or the default route. */
  VirtualHost serviceVirtualHost(MeshService service, ServicePort port, List<String> domains, Scope scope) {
    VirtualHost.Builder vh = VirtualHost.newBuilder()
        .setName(service.hostname() + ":" + port.port())
        .addAllDomains(domains)
        .setIncludeRequestAttemptCount(true);
    Optional<VirtualService> vs = virtualServiceFor(service.hostname(), scope);
    if (vs.isPresent()) {
      vh.addAllRoutes(routes(vs.get(), port.port(), scope));
    } else {
      vh.addRoutes(defaultRoute(service, port));
    }
    return vh.build();
  }

  /** The first VirtualService (in resource order, as istiod keeps the oldest) whose hosts name the service. */
  Optional<VirtualService> virtualServiceFor(String hostname, Scope scope) {
    for (VirtualService vs : config.virtualServices()) {
      if (!scope.applies(vs.gateways(), vs.resource().namespace())) {
        continue;
      }
      for (String h : vs.hosts()) {
        if (IstioConfig.resolveHost(h, vs.resource().namespace()).equals(hostname)) {
          return Optional.of(vs);
        }
      }
    }
    return Optional.empty();
  }

  Route defaultRoute(MeshService service, ServicePort port) {
    String cluster = IstioNames.outboundCluster(port.port(), "", service.hostname());
    return Route.newBuilder()
        .setName("default")
        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(withDefaults(RouteAction.newBuilder().setCluster(cluster), null).setRetryPolicy(defaultRetryPolicy()))
        .setDecorator(Decorator.newBuilder().setOperation(service.hostname() + ":" + port.port() + "/*"))
        .build();
  }

  /** The catch-all virtual host for destinations outside the registry: {@link #allowAny()}, or istiod's {@code block_all} under REGISTRY_ONLY. */
  static VirtualHost catchAll(boolean registryOnly) {
    return registryOnly ? blockAll() : allowAny();
  }

  /** istiod's catch-all under {@code outboundTrafficPolicy.mode: REGISTRY_ONLY}: 502 for any host outside the registry. */
  static VirtualHost blockAll() {
    return VirtualHost.newBuilder()
        .setName("block_all")
        .addDomains("*")
        .addRoutes(Route.newBuilder()
            .setName("block_all")
            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setDirectResponse(io.envoyproxy.envoy.config.route.v3.DirectResponseAction.newBuilder().setStatus(502)))
        .setIncludeRequestAttemptCount(true)
        .build();
  }

  /** Istio's catch-all for destinations outside the registry (outboundTrafficPolicy ALLOW_ANY). */
  static VirtualHost allowAny() {
    return VirtualHost.newBuilder()
        .setName("allow_any")
        .addDomains("*")
        .addRoutes(Route.newBuilder()
            .setName("allow_any")
            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setRoute(withDefaults(RouteAction.newBuilder().setCluster(IstioNames.PASSTHROUGH), null)))
        .setIncludeRequestAttemptCount(true)
        .build();
  }

  /** Every route of {@code vs} that applies on {@code port} in {@code scope} (a port of 0 takes all). */
  List<Route> routes(VirtualService vs, int port, Scope scope) {
    List<Route> out = new ArrayList<>();
    for (HttpRoute http : vs.http()) {
      if (http.match().isEmpty()) {
        out.add(route(vs, http, null));
        continue;
      }
      for (HttpMatch m : http.match()) {
        if (m.port() != null && port != 0 && m.port() != port) {
          continue;
        }
        if (!m.gateways().isEmpty() && !scope.applies(m.gateways(), vs.resource().namespace())) {
          continue;
        }
        if (!m.sourceLabels().isEmpty() && !scope.proxyLabels().entrySet().containsAll(m.sourceLabels().entrySet())) {
          continue;
        }
        out.add(route(vs, http, m));
      }
    }
    return out;
  }

  private Route route(VirtualService vs, HttpRoute http, @Nullable HttpMatch match) {
    String ns = vs.resource().namespace();
    Route.Builder r = Route.newBuilder();
    String name = http.name() == null ? "" : http.name();
    if (match != null && match.name() != null) {
      name = name.isEmpty() ? match.name() : name + "." + match.name();
    }
    if (!name.isEmpty()) {
      r.setName(name);
    }
    r.setMatch(match(match));
    r.setMetadata(Metadata.newBuilder().putFilterMetadata("istio", Struct.newBuilder()
        .putFields("config", str(IstioNames.configPath("virtual-service", ns, vs.resource().name()))).build()));
    String operationPath = operationPath(match);
    if (http.redirect() != null) {
      r.setRedirect(redirect(http.redirect()));
    } else {
      RouteAction.Builder a = RouteAction.newBuilder();
      // Istio drops zero-weight destinations; a lone destination keeps its traffic whatever its weight.
      List<RouteDestination> weighted = http.route().stream().filter(d -> d.weight() == null || d.weight() > 0).toList();
      List<RouteDestination> dests = weighted.isEmpty() ? http.route() : weighted;
      if (dests.size() == 1) {
        a.setCluster(clusterName(dests.getFirst().destination(), ns));
      } else {
        WeightedCluster.Builder wc = WeightedCluster.newBuilder();
        for (RouteDestination d : dests) {
          WeightedCluster.ClusterWeight.Builder cw = WeightedCluster.ClusterWeight.newBuilder()
              .setName(clusterName(d.destination(), ns))
              .setWeight(UInt32Value.of(d.weight() == null ? 0 : d.weight()));
          headerOps(d.requestHeaders(), cw::addRequestHeadersToAdd, cw::addAllRequestHeadersToRemove);
          headerOps(d.responseHeaders(), cw::addResponseHeadersToAdd, cw::addAllResponseHeadersToRemove);
          wc.addClusters(cw);
        }
        a.setWeightedClusters(wc);
      }
      withDefaults(a, http.timeout());
      // attempts: 0 turns retries off: istiod then sends no retry policy at all.
      if (http.retries() == null) {
        a.setRetryPolicy(defaultRetryPolicy());
      } else if (http.retries().attempts() > 0) {
        a.setRetryPolicy(retryPolicy(http.retries()));
      }
      if (http.rewrite() != null) {
        if (http.rewrite().uri() != null) {
          a.setPrefixRewrite(http.rewrite().uri());
        }
        if (http.rewrite().authority() != null) {
          a.setHostRewriteLiteral(http.rewrite().authority());
        }
      }
      if (http.mirror() != null) {
        var mirror = RouteAction.RequestMirrorPolicy.newBuilder()
            .setCluster(clusterName(http.mirror(), ns))
            .setTraceSampled(BoolValue.of(false));
        if (http.mirrorPercentage() != null) {
          mirror.setRuntimeFraction(RuntimeFractionalPercent.newBuilder().setDefaultValue(percent(http.mirrorPercentage())));
        }
        a.addRequestMirrorPolicies(mirror);
      }
      r.setRoute(a);
      if (!dests.isEmpty()) {
        Destination first = dests.getFirst().destination();
        operationPath = IstioConfig.resolveHost(first.host(), ns) + ":" + destinationPort(first, ns) + operationPath;
      }
    }
    r.setDecorator(Decorator.newBuilder().setOperation(operationPath));
    if (http.fault() != null) {
      r.putTypedPerFilterConfig(IstioNames.FAULT, Any.pack(fault(http.fault())));
    }
    if (http.corsPolicy() != null) {
      r.putTypedPerFilterConfig(IstioNames.CORS, Any.pack(cors(http.corsPolicy())));
    }
    headerOps(http.requestHeaders(), r::addRequestHeadersToAdd, r::addAllRequestHeadersToRemove);
    headerOps(http.responseHeaders(), r::addResponseHeadersToAdd, r::addAllResponseHeadersToRemove);
    return r.build();
  }

  /** Timeout and max stream duration as istiod sets them: the route's timeout, {@code 0s} (none) by default. */
  private static RouteAction.Builder withDefaults(RouteAction.Builder a, @Nullable Duration timeout) {
    com.google.protobuf.Duration d = proto(timeout == null ? Duration.ZERO : timeout);
    return a.setTimeout(d).setMaxStreamDuration(RouteAction.MaxStreamDuration.newBuilder()
        .setMaxStreamDuration(d).setGrpcTimeoutHeaderMax(d));
  }

  static RetryPolicy defaultRetryPolicy() {
    return RetryPolicy.newBuilder()
        .setRetryOn(DEFAULT_RETRY_ON)
        .setNumRetries(UInt32Value.of(2))
        .addRetryHostPredicate(RetryPolicy.RetryHostPredicate.newBuilder()
            .setName("envoy.retry_host_predicates.previous_hosts")
            .setTypedConfig(Any.pack(PreviousHostsPredicate.getDefaultInstance())))
        .setHostSelectionRetryMaxAttempts(5)
        .addRetriableStatusCodes(503)
        .build();
  }

  /** {@code retries}: attempts and per-try timeout over the default policy; numeric {@code retryOn} entries become retriable status codes. */
  private static RetryPolicy retryPolicy(VirtualService.Retries retries) {
    RetryPolicy.Builder p = defaultRetryPolicy().toBuilder().setNumRetries(UInt32Value.of(retries.attempts()));
    if (retries.perTryTimeout() != null) {
      p.setPerTryTimeout(proto(retries.perTryTimeout()));
    }
    if (retries.retryOn() != null && !retries.retryOn().isBlank()) {
      List<String> on = new ArrayList<>();
      p.clearRetriableStatusCodes();
      for (String s : retries.retryOn().split(",")) {
        String t = s.trim();
        if (t.chars().allMatch(Character::isDigit) && !t.isEmpty()) {
          p.addRetriableStatusCodes(Integer.parseInt(t));
          if (!on.contains("retriable-status-codes")) {
            on.add("retriable-status-codes");
          }
        } else if (!t.isEmpty()) {
          on.add(t);
        }
      }
      p.setRetryOn(String.join(",", on));
    }
    return p.build();
  }

  private static RouteMatch match(@Nullable HttpMatch m) {
    RouteMatch.Builder b = RouteMatch.newBuilder();
    if (m == null || m.uri() == null) {
      b.setPrefix("/");
    } else {
      switch (m.uri().kind()) {
        case EXACT -> b.setPath(m.uri().value());
        case PREFIX -> b.setPrefix(m.uri().value());
        case REGEX -> b.setSafeRegex(RegexMatcher.newBuilder().setRegex(m.uri().value()));
        case PRESENT -> b.setPrefix("/");
      }
      b.setCaseSensitive(BoolValue.of(!m.ignoreUriCase()));
    }
    if (m == null) {
      return b.build();
    }
    m.headers().forEach((name, sm) -> b.addHeaders(header(name, sm, false)));
    m.withoutHeaders().forEach((name, sm) -> b.addHeaders(header(name, sm, true)));
    if (m.authority() != null) {
      b.addHeaders(header(":authority", m.authority(), false));
    }
    if (m.method() != null) {
      b.addHeaders(header(":method", m.method(), false));
    }
    if (m.scheme() != null) {
      b.addHeaders(header(":scheme", m.scheme(), false));
    }
    m.queryParams().forEach((name, sm) -> {
      QueryParameterMatcher.Builder q = QueryParameterMatcher.newBuilder().setName(name);
      if (sm.kind() == StringMatch.Kind.PRESENT) {
        q.setPresentMatch(true);
      } else {
        q.setStringMatch(stringMatcher(sm));
      }
      b.addQueryParameters(q);
    });
    return b.build();
  }

  private static HeaderMatcher header(String name, StringMatch sm, boolean invert) {
    HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(name.toLowerCase(java.util.Locale.ROOT));
    if (sm.kind() == StringMatch.Kind.PRESENT) {
      h.setPresentMatch(true);
    } else {
      h.setStringMatch(stringMatcher(sm));
    }
    return h.setInvertMatch(invert).build();
  }

  private static StringMatcher stringMatcher(StringMatch sm) {
    StringMatcher.Builder s = StringMatcher.newBuilder();
    switch (sm.kind()) {
      case EXACT -> s.setExact(sm.value());
      case PREFIX -> s.setPrefix(sm.value());
      case REGEX -> s.setSafeRegex(RegexMatcher.newBuilder().setRegex(sm.value()));
      case PRESENT -> s.setSafeRegex(RegexMatcher.newBuilder().setRegex(".*"));
    }
    return s.build();
  }

  /** The decorator's path part: {@code /productpage}, {@code /static*}, {@code /*}. */
  private static String operationPath(@Nullable HttpMatch m) {
    if (m == null || m.uri() == null) {
      return "/*";
    }
    return switch (m.uri().kind()) {
      case EXACT -> m.uri().value();
      case PREFIX -> m.uri().value() + "*";
      default -> "/*";
    };
  }

  private static RedirectAction redirect(VirtualService.Redirect r) {
    RedirectAction.Builder b = RedirectAction.newBuilder();
    if (r.uri() != null) {
      b.setPathRedirect(r.uri());
    }
    if (r.authority() != null) {
      b.setHostRedirect(r.authority());
    }
    if (r.port() != null) {
      b.setPortRedirect(r.port());
    }
    if (r.scheme() != null) {
      b.setSchemeRedirect(r.scheme());
    }
    b.setResponseCode(switch (r.redirectCode()) {
      case 302 -> RedirectAction.RedirectResponseCode.FOUND;
      case 303 -> RedirectAction.RedirectResponseCode.SEE_OTHER;
      case 307 -> RedirectAction.RedirectResponseCode.TEMPORARY_REDIRECT;
      case 308 -> RedirectAction.RedirectResponseCode.PERMANENT_REDIRECT;
      default -> RedirectAction.RedirectResponseCode.MOVED_PERMANENTLY;
    });
    return b.build();
  }

  /** Istio's fault translation: percentages (0..100, fractional) as parts per million; no percentage means always. */
  private static HTTPFault fault(VirtualService.Fault f) {
    HTTPFault.Builder b = HTTPFault.newBuilder();
    if (f.delay() != null) {
      b.setDelay(FaultDelay.newBuilder().setFixedDelay(proto(f.delay()))
          .setPercentage(percent(f.delayPercentage() == null ? 100.0 : f.delayPercentage())));
    }
    if (f.abortStatus() != null) {
      b.setAbort(FaultAbort.newBuilder().setHttpStatus(f.abortStatus())
          .setPercentage(percent(f.abortPercentage() == null ? 100.0 : f.abortPercentage())));
    }
    return b.build();
  }

  private static CorsPolicy cors(VirtualService.CorsPolicy c) {
    CorsPolicy.Builder b = CorsPolicy.newBuilder();
    for (StringMatch o : c.allowOrigins()) {
      b.addAllowOriginStringMatch(stringMatcher(o));
    }
    if (!c.allowMethods().isEmpty()) {
      b.setAllowMethods(String.join(",", c.allowMethods()));
    }
    if (!c.allowHeaders().isEmpty()) {
      b.setAllowHeaders(String.join(",", c.allowHeaders()));
    }
    if (!c.exposeHeaders().isEmpty()) {
      b.setExposeHeaders(String.join(",", c.exposeHeaders()));
    }
    if (c.maxAge() != null) {
      b.setMaxAge(Long.toString(c.maxAge().toSeconds()));
    }
    if (c.allowCredentials() != null) {
      b.setAllowCredentials(BoolValue.of(c.allowCredentials()));
    }
    return b.setFilterEnabled(RuntimeFractionalPercent.newBuilder()
        .setDefaultValue(FractionalPercent.newBuilder().setNumerator(100).setDenominator(FractionalPercent.DenominatorType.HUNDRED)))
        .build();
  }

  private static void headerOps(HeaderOps ops, java.util.function.Consumer<HeaderValueOption> add,
      java.util.function.Consumer<List<String>> remove) {
    if (ops.isEmpty()) {
      return;
    }
    ops.set().forEach((k, v) -> add.accept(HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey(k).setValue(v))
        .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD).build()));
    ops.add().forEach((k, v) -> add.accept(HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey(k).setValue(v))
        .setAppendAction(HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD).build()));
    if (!ops.remove().isEmpty()) {
      remove.accept(ops.remove());
    }
  }

  /** The cluster a destination names: its port, or the service's only port. */
  String clusterName(Destination d, String namespace) {
    String fqdn = IstioConfig.resolveHost(d.host(), namespace);
    return IstioNames.outboundCluster(destinationPort(d, namespace), d.subset() == null ? "" : d.subset(), fqdn);
  }

  private int destinationPort(Destination d, String namespace) {
    if (d.port() != null) {
      return d.port();
    }
    String fqdn = IstioConfig.resolveHost(d.host(), namespace);
    return IstioValidator.service(registry, fqdn)
        .filter(s -> !s.ports().isEmpty())
        .map(s -> s.ports().getFirst().port())
        .orElse(80);
  }

  static FractionalPercent percent(double value) {
    return FractionalPercent.newBuilder()
        .setNumerator((int) Math.round(value * 10_000))
        .setDenominator(FractionalPercent.DenominatorType.MILLION)
        .build();
  }

  static com.google.protobuf.Duration proto(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
