package dev.sluice.mesh.istio;

import dev.sluice.mesh.istio.DestinationRule.Outlier;
import dev.sluice.mesh.istio.DestinationRule.Subset;
import dev.sluice.mesh.istio.DestinationRule.TrafficPolicy;
import dev.sluice.mesh.istio.VirtualService.CorsPolicy;
import dev.sluice.mesh.istio.VirtualService.Destination;
import dev.sluice.mesh.istio.VirtualService.Fault;
import dev.sluice.mesh.istio.VirtualService.HeaderOps;
import dev.sluice.mesh.istio.VirtualService.HttpMatch;
import dev.sluice.mesh.istio.VirtualService.HttpRoute;
import dev.sluice.mesh.istio.VirtualService.Redirect;
import dev.sluice.mesh.istio.VirtualService.Retries;
import dev.sluice.mesh.istio.VirtualService.Rewrite;
import dev.sluice.mesh.istio.VirtualService.RouteDestination;
import dev.sluice.mesh.istio.VirtualService.StringMatch;
import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.ValidationMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads the {@code networking.istio.io} resources of a state into typed values, reporting every
 * malformed field (wrong type, unknown field, a match that is not exactly one of
 * exact/prefix/regex, a bad duration, a percentage outside 0..100) and duplicate resources, with
 * the resource's source and the field's path. Kubernetes kinds are the registry's business and
 * are skipped here.
 */
public final class IstioParser {
  public static final String NETWORKING = "networking.istio.io";

  private static final Set<String> VS_KEYS = Set.of("hosts", "gateways", "http", "tcp", "tls", "exportTo");
  private static final Set<String> HTTP_KEYS = Set.of("name", "match", "route", "redirect", "directResponse", "delegate",
      "rewrite", "timeout", "retries", "fault", "mirror", "mirrorPercentage", "mirrorPercent", "mirror_percent", "mirrors",
      "corsPolicy", "headers");
  private static final Set<String> MATCH_KEYS = Set.of("name", "uri", "scheme", "method", "authority", "headers",
      "queryParams", "ignoreUriCase", "withoutHeaders", "port", "sourceLabels", "gateways", "sourceNamespace", "statPrefix");
  private static final Set<String> STRING_MATCH_KEYS = Set.of("exact", "prefix", "regex");
  private static final Set<String> DEST_KEYS = Set.of("host", "subset", "port");
  private static final Set<String> ROUTE_KEYS = Set.of("destination", "weight", "headers");
  private static final Set<String> DR_KEYS = Set.of("host", "trafficPolicy", "subsets", "exportTo", "workloadSelector");
  private static final Set<String> POLICY_KEYS = Set.of("loadBalancer", "connectionPool", "outlierDetection", "tls",
      "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget");
  private static final Set<String> LB_SIMPLE = Set.of("UNSPECIFIED", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN");
  private static final Set<String> GW_KEYS = Set.of("selector", "servers");
  private static final Set<String> SIDECAR_KEYS = Set.of("workloadSelector", "ingress", "egress", "outboundTrafficPolicy",
      "inboundConnectionPool");
  /** A DNS name as a Sidecar egress host takes it: {@code *}, or labels with an optional leading {@code *.}. */
  private static final java.util.regex.Pattern EGRESS_DNS_NAME = java.util.regex.Pattern.compile(
      "\\*|(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
  private static final java.util.regex.Pattern NAMESPACE = java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Set<String> KNOWN_KINDS = Set.of("VirtualService", "DestinationRule", "Gateway", "ServiceEntry",
      "WorkloadEntry", "WorkloadGroup", "Sidecar");

  private IstioParser() {}

  /** The typed Istio configuration of {@code resources}; malformed fields and duplicates go to the config's messages. */
  public static IstioConfig parse(List<MeshResource> resources) {
    List<ValidationMessage> messages = new ArrayList<>();
    List<VirtualService> virtualServices = new ArrayList<>();
    List<DestinationRule> destinationRules = new ArrayList<>();
    List<Gateway> gateways = new ArrayList<>();
    List<Sidecar> sidecars = new ArrayList<>();
    Map<String, MeshResource> seen = new HashMap<>();
    for (MeshResource r : resources) {
      SpecReader in = new SpecReader(r, messages);
      MeshResource first = seen.putIfAbsent(r.key(), r);
      if (first != null) {
        in.error("metadata.name", "duplicate " + r.kind() + " " + r.namespace() + "/" + r.name()
            + " (also defined in " + first.source() + ")");
        continue;
      }
      if (!r.apiVersion().startsWith(NETWORKING + "/")) {
        continue;
      }
      switch (r.kind()) {
        case "VirtualService" -> virtualServices.add(virtualService(in));
        case "DestinationRule" -> destinationRules.add(destinationRule(in));
        case "Gateway" -> gateways.add(gateway(in));
        case "Sidecar" -> sidecars.add(sidecar(in));
        default -> {
          if (!KNOWN_KINDS.contains(r.kind())) {
            in.warning("kind", "unknown kind " + r.kind() + " in " + r.apiVersion() + "; ignored");
          }
        }
      }
    }
    return new IstioConfig(virtualServices, destinationRules, gateways, sidecars, messages);
  }

  // ---- VirtualService ----

  private static VirtualService virtualService(SpecReader in) {
    Map<String, Object> spec = in.resource().spec();
    in.onlyKnown(spec, "spec", VS_KEYS);
    List<String> hosts = in.stringList(spec, "hosts", "spec");
    if (hosts.isEmpty() && !spec.containsKey("hosts")) {
      in.error("spec.hosts", "at least one host is required");
    }
    List<String> gateways = in.stringList(spec, "gateways", "spec");
    List<HttpRoute> http = new ArrayList<>();
    List<Map<String, Object>> list = in.mapList(spec, "http", "spec");
    for (int i = 0; i < list.size(); i++) {
      http.add(httpRoute(in, list.get(i), "spec.http[" + i + "]"));
    }
    return new VirtualService(in.resource(), hosts, gateways, http);
  }

  private static HttpRoute httpRoute(SpecReader in, Map<String, Object> m, String path) {
    in.onlyKnown(m, path, HTTP_KEYS);
    List<HttpMatch> matches = new ArrayList<>();
    List<Map<String, Object>> ml = in.mapList(m, "match", path);
    for (int i = 0; i < ml.size(); i++) {
      matches.add(match(in, ml.get(i), path + ".match[" + i + "]"));
    }
    List<RouteDestination> route = new ArrayList<>();
    List<Map<String, Object>> rl = in.mapList(m, "route", path);
    for (int i = 0; i < rl.size(); i++) {
      RouteDestination d = routeDestination(in, rl.get(i), path + ".route[" + i + "]");
      if (d != null) {
        route.add(d);
      }
    }
    Redirect redirect = redirect(in, in.map(m, "redirect", path), path + ".redirect");
    for (String unsupported : List.of("directResponse", "delegate")) {
      if (m.containsKey(unsupported)) {
        in.error(path + "." + unsupported, unsupported + " is not supported by this control plane");
      }
    }
    if (m.containsKey("mirrors")) {
      in.warning(path + ".mirrors", "mirrors is not supported by this control plane; use mirror (ignored)");
    }
    if (route.isEmpty() && redirect == null && !m.containsKey("directResponse") && !m.containsKey("delegate") && !m.containsKey("route")) {
      in.error(path, "a route or a redirect is required");
    }
    if (!route.isEmpty() && redirect != null) {
      in.error(path + ".redirect", "a route cannot have both route and redirect");
    }
    checkWeights(in, rl, path);
    Map<String, Object> headers = in.map(m, "headers", path);
    Double mirrorPct = percentage(in, m, "mirrorPercentage", path);
    Map<String, Object> mirror = in.map(m, "mirror", path);
    return new HttpRoute(
        in.string(m, "name", path),
        List.copyOf(matches),
        List.copyOf(route),
        redirect,
        rewrite(in, in.map(m, "rewrite", path), path + ".rewrite"),
        in.duration(m, "timeout", path),
        retries(in, in.map(m, "retries", path), path + ".retries"),
        fault(in, in.map(m, "fault", path), path + ".fault"),
        mirror == null ? null : destination(in, mirror, path + ".mirror"),
        mirrorPct,
        cors(in, in.map(m, "corsPolicy", path), path + ".corsPolicy"),
        headerOps(in, headers, "request", path + ".headers"),
        headerOps(in, headers, "response", path + ".headers"));
  }

  /** Istio requires the weights of a multi-destination route to add up to 100. */
  private static void checkWeights(SpecReader in, List<Map<String, Object>> routes, String path) {
    if (routes.size() < 2 && (routes.isEmpty() || !routes.getFirst().containsKey("weight"))) {
      return;
    }
    long sum = 0;
    for (int i = 0; i < routes.size(); i++) {
      Object w = routes.get(i).get("weight");
      if (w instanceof Integer n) {
        if (n < 0) {
          in.error(path + ".route[" + i + "].weight", "weight must not be negative: " + n);
        }
        sum += n;
      }
    }
    if (sum != 100 && !(routes.size() == 1 && sum == 0)) {
      in.error(path + ".route[" + (routes.size() - 1) + "].weight", "total destination weight " + sum + " != 100");
    }
  }

  private static HttpMatch match(SpecReader in, Map<String, Object> m, String path) {
    in.onlyKnown(m, path, MATCH_KEYS);
    Boolean ignoreCase = in.bool(m, "ignoreUriCase", path);
    return new HttpMatch(
        in.string(m, "name", path),
        stringMatch(in, m, "uri", path, false),
        stringMatch(in, m, "scheme", path, false),
        stringMatch(in, m, "method", path, false),
        stringMatch(in, m, "authority", path, false),
        stringMatches(in, m, "headers", path),
        stringMatches(in, m, "queryParams", path),
        stringMatches(in, m, "withoutHeaders", path),
        ignoreCase != null && ignoreCase,
        in.integer(m, "port", path),
        in.stringMap(m, "sourceLabels", path),
        in.stringList(m, "gateways", path));
  }

  private static Map<String, StringMatch> stringMatches(SpecReader in, Map<String, Object> m, String key, String path) {
    Map<String, Object> byName = in.map(m, key, path);
    if (byName == null) {
      return Map.of();
    }
    Map<String, StringMatch> out = new LinkedHashMap<>();
    for (String name : byName.keySet()) {
      StringMatch sm = stringMatch(in, byName, name, path + "." + key, true);
      if (sm != null) {
        out.put(name, sm);
      }
    }
    return out;
  }

  /** Exactly one of exact/prefix/regex; {@code {}} (presence) only where {@code emptyAllowed} (header and query matches). */
  private static @Nullable StringMatch stringMatch(SpecReader in, Map<String, Object> m, String key, String path, boolean emptyAllowed) {
    Object v = m.get(key);
    if (v == null) {
      return null;
    }
    String field = path + "." + key;
    Map<String, Object> sm = SpecReader.asMap(v);
    if (sm == null) {
      in.error(field, "must be a match with one of exact, prefix or regex (e.g. {exact: value}), not " + SpecReader.describe(v));
      return null;
    }
    in.onlyKnown(sm, field, STRING_MATCH_KEYS);
    List<String> kinds = sm.keySet().stream().filter(STRING_MATCH_KEYS::contains).toList();
    if (kinds.isEmpty()) {
      if (sm.isEmpty() && emptyAllowed) {
        return new StringMatch(StringMatch.Kind.PRESENT, "");
      }
      if (sm.isEmpty()) {
        in.error(field, "must set one of exact, prefix or regex");
      }
      return null;
    }
    if (kinds.size() > 1) {
      in.error(field, "must set only one of exact, prefix or regex, not " + String.join(" and ", kinds));
      return null;
    }
    String kind = kinds.getFirst();
    String value = in.string(sm, kind, field);
    if (value == null) {
      return null;
    }
    if (kind.equals("regex")) {
      try {
        com.google.re2j.Pattern.compile(value);
      } catch (com.google.re2j.PatternSyntaxException e) {
        in.error(field + ".regex", "invalid RE2 regular expression: " + e.getMessage());
        return null;
      }
    }
    return new StringMatch(StringMatch.Kind.valueOf(kind.toUpperCase(java.util.Locale.ROOT)), value);
  }

  private static @Nullable RouteDestination routeDestination(SpecReader in, Map<String, Object> m, String path) {
    in.onlyKnown(m, path, ROUTE_KEYS);
    Map<String, Object> dest = in.map(m, "destination", path);
    Integer weight = in.integer(m, "weight", path);
    Map<String, Object> headers = in.map(m, "headers", path);
    if (dest == null) {
      if (!m.containsKey("destination")) {
        in.error(path + ".destination", "a destination is required");
      }
      return null;
    }
    Destination d = destination(in, dest, path + ".destination");
    return d == null ? null : new RouteDestination(d, weight,
        headerOps(in, headers, "request", path + ".headers"), headerOps(in, headers, "response", path + ".headers"));
  }

  private static @Nullable Destination destination(SpecReader in, Map<String, Object> m, String path) {
    in.onlyKnown(m, path, DEST_KEYS);
    String host = in.string(m, "host", path);
    if (host == null || host.isEmpty()) {
      if (!(m.get("host") != null && host == null)) {
        in.error(path + ".host", "a host is required");
      }
      return null;
    }
    Integer port = null;
    Map<String, Object> p = in.map(m, "port", path);
    if (p != null) {
      in.onlyKnown(p, path + ".port", Set.of("number"));
      port = in.integer(p, "number", path + ".port");
      if (port != null && (port < 1 || port > 65535)) {
        in.error(path + ".port.number", "port must be in 1..65535: " + port);
        port = null;
      }
    }
    return new Destination(host, in.string(m, "subset", path), port);
  }

  private static @Nullable Redirect redirect(SpecReader in, @Nullable Map<String, Object> m, String path) {
    if (m == null) {
      return null;
    }
    in.onlyKnown(m, path, Set.of("uri", "authority", "port", "derivePort", "scheme", "redirectCode"));
    Integer code = in.integer(m, "redirectCode", path);
    if (code != null && !Set.of(301, 302, 303, 307, 308).contains(code)) {
      in.error(path + ".redirectCode", "redirect code must be one of 301, 302, 303, 307, 308: " + code);
      code = null;
    }
    return new Redirect(in.string(m, "uri", path), in.string(m, "authority", path), in.integer(m, "port", path),
        in.string(m, "scheme", path), code == null ? 301 : code);
  }

  private static @Nullable Rewrite rewrite(SpecReader in, @Nullable Map<String, Object> m, String path) {
    if (m == null) {
      return null;
    }
    in.onlyKnown(m, path, Set.of("uri", "authority", "uriRegexRewrite"));
    return new Rewrite(in.string(m, "uri", path), in.string(m, "authority", path));
  }

  private static @Nullable Retries retries(SpecReader in, @Nullable Map<String, Object> m, String path) {
    if (m == null) {
      return null;
    }
    in.onlyKnown(m, path, Set.of("attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff"));
    Integer attempts = in.integer(m, "attempts", path);
    if (attempts != null && attempts < 0) {
      in.error(path + ".attempts", "attempts must not be negative: " + attempts);
    }
    return new Retries(attempts == null ? 0 : Math.max(0, attempts), in.duration(m, "perTryTimeout", path), in.string(m, "retryOn", path));
  }

  private static @Nullable Fault fault(SpecReader in, @Nullable Map<String, Object> m, String path) {
    if (m == null) {
      return null;
    }
    in.onlyKnown(m, path, Set.of("delay", "abort"));
    Map<String, Object> delay = in.map(m, "delay", path);
    Map<String, Object> abort = in.map(m, "abort", path);
    if (delay == null && abort == null && !m.containsKey("delay") && !m.containsKey("abort")) {
      in.error(path, "a fault needs a delay or an abort");
    }
    Duration fixed = null;
    Double delayPct = null;
    if (delay != null) {
      String p = path + ".delay";
      in.onlyKnown(delay, p, Set.of("fixedDelay", "exponentialDelay", "percentage", "percent"));
      fixed = in.duration(delay, "fixedDelay", p);
      if (fixed == null && !delay.containsKey("fixedDelay")) {
        in.error(p + ".fixedDelay", "a fixedDelay is required");
      }
      delayPct = faultPercentage(in, delay, p);
    }
    Integer status = null;
    Double abortPct = null;
    if (abort != null) {
      String p = path + ".abort";
      in.onlyKnown(abort, p, Set.of("httpStatus", "grpcStatus", "http2Error", "percentage"));
      status = in.integer(abort, "httpStatus", p);
      if (status == null && !abort.containsKey("httpStatus")) {
        in.error(p + ".httpStatus", "an httpStatus is required");
      } else if (status != null && (status < 200 || status > 599)) {
        in.error(p + ".httpStatus", "httpStatus must be in 200..599: " + status);
        status = null;
      }
      abortPct = percentage(in, abort, "percentage", p);
    }
    return new Fault(fixed, delayPct, status, abortPct);
  }

  /** {@code percentage: {value: 12.5}}, or the deprecated integer {@code percent}. */
  private static @Nullable Double faultPercentage(SpecReader in, Map<String, Object> m, String path) {
    Double pct = percentage(in, m, "percentage", path);
    if (pct == null && m.containsKey("percent")) {
      Integer p = in.integer(m, "percent", path);
      if (p != null && (p < 0 || p > 100)) {
        in.error(path + ".percent", "percent must be in 0..100: " + p);
        return null;
      }
      return p == null ? null : p.doubleValue();
    }
    return pct;
  }

  private static @Nullable Double percentage(SpecReader in, Map<String, Object> m, String key, String path) {
    Map<String, Object> pm = in.map(m, key, path);
    if (pm == null) {
      return null;
    }
    in.onlyKnown(pm, path + "." + key, Set.of("value"));
    Double v = in.number(pm, "value", path + "." + key);
    if (v != null && (v < 0 || v > 100)) {
      in.error(path + "." + key + ".value", "percentage must be in 0..100: " + v);
      return null;
    }
    return v;
  }

  private static @Nullable CorsPolicy cors(SpecReader in, @Nullable Map<String, Object> m, String path) {
    if (m == null) {
      return null;
    }
    in.onlyKnown(m, path, Set.of("allowOrigins", "allowOrigin", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge",
        "allowCredentials", "unmatchedPreflights"));
    List<StringMatch> origins = new ArrayList<>();
    List<Map<String, Object>> ol = in.mapList(m, "allowOrigins", path);
    for (int i = 0; i < ol.size(); i++) {
      StringMatch sm = stringMatch(in, Map.of("o", ol.get(i)), "o", path + ".allowOrigins[" + i + "]", false);
      if (sm != null) {
        origins.add(sm);
      }
    }
    for (String exact : in.stringList(m, "allowOrigin", path)) {
      origins.add(new StringMatch(StringMatch.Kind.EXACT, exact));
    }
    return new CorsPolicy(List.copyOf(origins), in.stringList(m, "allowMethods", path), in.stringList(m, "allowHeaders", path),
        in.stringList(m, "exposeHeaders", path), in.duration(m, "maxAge", path), in.bool(m, "allowCredentials", path));
  }

  private static HeaderOps headerOps(SpecReader in, @Nullable Map<String, Object> headers, String which, String path) {
    if (headers == null) {
      return HeaderOps.NONE;
    }
    Map<String, Object> m = in.map(headers, which, path);
    if (m == null) {
      return HeaderOps.NONE;
    }
    String p = path + "." + which;
    in.onlyKnown(m, p, Set.of("set", "add", "remove"));
    return new HeaderOps(in.stringMap(m, "set", p), in.stringMap(m, "add", p), in.stringList(m, "remove", p));
  }

  // ---- DestinationRule ----

  private static DestinationRule destinationRule(SpecReader in) {
    Map<String, Object> spec = in.resource().spec();
    in.onlyKnown(spec, "spec", DR_KEYS);
    String host = in.string(spec, "host", "spec");
    if (host == null || host.isEmpty()) {
      if (!spec.containsKey("host")) {
        in.error("spec.host", "a host is required");
      }
      host = "";
    }
    List<Subset> subsets = new ArrayList<>();
    List<Map<String, Object>> sl = in.mapList(spec, "subsets", "spec");
    Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < sl.size(); i++) {
      String p = "spec.subsets[" + i + "]";
      Map<String, Object> s = sl.get(i);
      in.onlyKnown(s, p, Set.of("name", "labels", "trafficPolicy"));
      String name = in.string(s, "name", p);
      if (name == null || name.isEmpty()) {
        in.error(p + ".name", "a subset name is required");
        continue;
      }
      if (!names.add(name)) {
        in.error(p + ".name", "duplicate subset name \"" + name + "\"");
        continue;
      }
      subsets.add(new Subset(name, in.stringMap(s, "labels", p), trafficPolicy(in, in.map(s, "trafficPolicy", p), p + ".trafficPolicy")));
    }
    return new DestinationRule(in.resource(), host, trafficPolicy(in, in.map(spec, "trafficPolicy", "spec"), "spec.trafficPolicy"), List.copyOf(subsets));
  }

  private static @Nullable TrafficPolicy trafficPolicy(SpecReader in, @Nullable Map<String, Object> m, String path) {
    if (m == null) {
      return null;
    }
    in.onlyKnown(m, path, POLICY_KEYS);
    String lb = null;
    Map<String, Object> lbm = in.map(m, "loadBalancer", path);
    if (lbm != null) {
      lb = in.string(lbm, "simple", path + ".loadBalancer");
      if (lb != null && !LB_SIMPLE.contains(lb)) {
        in.error(path + ".loadBalancer.simple", "unknown load balancer \"" + lb + "\" (one of " + String.join(", ", new java.util.TreeSet<>(LB_SIMPLE)) + ")");
        lb = null;
      }
    }
    Integer maxConnections = null;
    Duration connectTimeout = null;
    Integer pending = null;
    Integer h2Max = null;
    Integer perConn = null;
    Integer maxRetries = null;
    Duration idle = null;
    Map<String, Object> pool = in.map(m, "connectionPool", path);
    if (pool != null) {
      String pp = path + ".connectionPool";
      in.onlyKnown(pool, pp, Set.of("tcp", "http"));
      Map<String, Object> tcp = in.map(pool, "tcp", pp);
      if (tcp != null) {
        maxConnections = in.integer(tcp, "maxConnections", pp + ".tcp");
        connectTimeout = in.duration(tcp, "connectTimeout", pp + ".tcp");
      }
      Map<String, Object> http = in.map(pool, "http", pp);
      if (http != null) {
        String hp = pp + ".http";
        pending = in.integer(http, "http1MaxPendingRequests", hp);
        h2Max = in.integer(http, "http2MaxRequests", hp);
        perConn = in.integer(http, "maxRequestsPerConnection", hp);
        maxRetries = in.integer(http, "maxRetries", hp);
        idle = in.duration(http, "idleTimeout", hp);
      }
    }
    Outlier outlier = null;
    Map<String, Object> od = in.map(m, "outlierDetection", path);
    if (od != null) {
      String op = path + ".outlierDetection";
      Integer c5 = in.integer(od, "consecutive5xxErrors", op);
      if (c5 == null) {
        c5 = in.integer(od, "consecutiveErrors", op);
      }
      outlier = new Outlier(c5, in.integer(od, "consecutiveGatewayErrors", op), in.duration(od, "interval", op),
          in.duration(od, "baseEjectionTime", op), in.integer(od, "maxEjectionPercent", op), in.integer(od, "minHealthPercent", op));
    }
    String tlsMode = null;
    Map<String, Object> tls = in.map(m, "tls", path);
    if (tls != null) {
      tlsMode = in.string(tls, "mode", path + ".tls");
    }
    return new TrafficPolicy(lb, maxConnections, connectTimeout, pending, h2Max, perConn, maxRetries, idle, outlier, tlsMode);
  }

  // ---- Gateway ----

  private static Gateway gateway(SpecReader in) {
    Map<String, Object> spec = in.resource().spec();
    in.onlyKnown(spec, "spec", GW_KEYS);
    List<Gateway.Server> servers = new ArrayList<>();
    List<Map<String, Object>> sl = in.mapList(spec, "servers", "spec");
    for (int i = 0; i < sl.size(); i++) {
      String p = "spec.servers[" + i + "]";
      Map<String, Object> s = sl.get(i);
      in.onlyKnown(s, p, Set.of("port", "hosts", "tls", "bind", "defaultEndpoint", "name"));
      Map<String, Object> port = in.map(s, "port", p);
      if (port == null) {
        if (!s.containsKey("port")) {
          in.error(p + ".port", "a port is required");
        }
        continue;
      }
      in.onlyKnown(port, p + ".port", Set.of("number", "name", "protocol", "targetPort"));
      Integer number = in.integer(port, "number", p + ".port");
      String protocol = in.string(port, "protocol", p + ".port");
      if (number == null || protocol == null) {
        if (!port.containsKey("number") || !port.containsKey("protocol")) {
          in.error(p + ".port", "port number and protocol are required");
        }
        continue;
      }
      List<String> hosts = in.stringList(s, "hosts", p);
      if (hosts.isEmpty()) {
        in.error(p + ".hosts", "at least one host is required");
      }
      servers.add(new Gateway.Server(number, in.string(port, "name", p + ".port"), protocol.toUpperCase(java.util.Locale.ROOT), hosts));
    }
    return new Gateway(in.resource(), in.stringMap(spec, "selector", "spec"), List.copyOf(servers));
  }

  // ---- Sidecar ----

  /**
   * The parts a local mesh applies (workloadSelector, egress hosts, outbound traffic policy mode);
   * the others are reported as warnings naming the field instead of being silently dropped.
   */
  private static Sidecar sidecar(SpecReader in) {
    Map<String, Object> spec = in.resource().spec();
    in.onlyKnown(spec, "spec", SIDECAR_KEYS);
    Map<String, String> selector = Map.of();
    Map<String, Object> ws = in.map(spec, "workloadSelector", "spec");
    if (ws != null) {
      in.onlyKnown(ws, "spec.workloadSelector", Set.of("labels"));
      selector = in.stringMap(ws, "labels", "spec.workloadSelector");
    }
    for (String unsupported : List.of("ingress", "inboundConnectionPool")) {
      if (spec.containsKey(unsupported)) {
        in.warning("spec." + unsupported, unsupported + " is not supported by this control plane; ignored");
      }
    }
    List<Sidecar.EgressHost> hosts = new ArrayList<>();
    List<Map<String, Object>> el = in.mapList(spec, "egress", "spec");
    for (int i = 0; i < el.size(); i++) {
      String p = "spec.egress[" + i + "]";
      Map<String, Object> e = el.get(i);
      in.onlyKnown(e, p, Set.of("port", "bind", "captureMode", "hosts"));
      for (String unsupported : List.of("port", "bind", "captureMode")) {
        if (e.containsKey(unsupported)) {
          in.warning(p + "." + unsupported, unsupported + " is not supported by this control plane; ignored"
              + (unsupported.equals("port") ? " (the hosts apply to every port)" : ""));
        }
      }
      List<String> hl = in.stringList(e, "hosts", p);
      if (hl.isEmpty() && !e.containsKey("hosts")) {
        in.error(p + ".hosts", "at least one host is required");
      }
      for (int j = 0; j < hl.size(); j++) {
        Sidecar.EgressHost h = egressHost(in, hl.get(j), p + ".hosts[" + j + "]");
        if (h != null) {
          hosts.add(h);
        }
      }
    }
    if (!el.isEmpty() && hosts.isEmpty()) {
      // Every host was malformed: see nothing rather than everything (the errors block the push anyway).
      hosts.add(new Sidecar.EgressHost("~", "*"));
    }
    boolean registryOnly = false;
    Map<String, Object> otp = in.map(spec, "outboundTrafficPolicy", "spec");
    if (otp != null) {
      in.onlyKnown(otp, "spec.outboundTrafficPolicy", Set.of("mode", "egressProxy"));
      if (otp.containsKey("egressProxy")) {
        in.warning("spec.outboundTrafficPolicy.egressProxy", "egressProxy is not supported by this control plane; ignored");
      }
      String mode = in.string(otp, "mode", "spec.outboundTrafficPolicy");
      if (mode != null && !mode.equals("REGISTRY_ONLY") && !mode.equals("ALLOW_ANY")) {
        in.error("spec.outboundTrafficPolicy.mode", "unknown mode \"" + mode + "\" (one of ALLOW_ANY, REGISTRY_ONLY)");
      }
      registryOnly = "REGISTRY_ONLY".equals(mode);
    }
    return new Sidecar(in.resource(), selector, hosts, registryOnly);
  }

  /** {@code namespace/dnsName}, as istiod validates a Sidecar egress host. */
  private static Sidecar.@Nullable EgressHost egressHost(SpecReader in, String host, String field) {
    int slash = host.indexOf('/');
    if (slash < 0 || host.indexOf('/', slash + 1) >= 0) {
      in.error(field, "host \"" + host + "\" must be of the form namespace/dnsName (e.g. ./reviews.default.svc.cluster.local or istio-system/*)");
      return null;
    }
    String ns = host.substring(0, slash);
    String dns = host.substring(slash + 1);
    if (!ns.equals("*") && !ns.equals(".") && !ns.equals("~") && !NAMESPACE.matcher(ns).matches()) {
      in.error(field, "host \"" + host + "\": namespace must be *, ., ~ or a namespace name, not \"" + ns + "\"");
      return null;
    }
    if (dns.length() > 253 || !EGRESS_DNS_NAME.matcher(dns).matches()) {
      in.error(field, "host \"" + host + "\": \"" + dns + "\" is not a DNS name (*, *.suffix or a host name)");
      return null;
    }
    return new Sidecar.EgressHost(ns, dns);
  }
}
