package dev.sluice.rbac;

import dev.sluice.api.config.ConfigException;
import dev.sluice.router.HeaderMatcher;
import dev.sluice.router.StringMatcher;
import io.envoyproxy.envoy.config.rbac.v3.MetadataSource;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.type.matcher.v3.FilterStateMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles RBAC {@code Permission}s and {@code Principal}s into {@link RbacMatcher}s with Envoy's
 * semantics. What Sluice cannot evaluate (CEL, custom matcher extensions, URI templates, route
 * metadata, filter-state address matchers) is refused with a {@link ConfigException}: a policy must
 * never be silently weakened.
 */
public final class RbacMatchers {
  private static final String PATH = ":path";

  private RbacMatchers() {}

  public static RbacMatcher permission(Permission p, String path) {
    return switch (p.getRuleCase()) {
      case AND_RULES -> and(p.getAndRules().getRulesList(), path + ".and_rules.rules", RbacMatchers::permission);
      case OR_RULES -> or(p.getOrRules().getRulesList(), path + ".or_rules.rules", RbacMatchers::permission);
      case ANY -> any(p.getAny(), path);
      case HEADER -> header(p.getHeader(), path + ".header");
      case URL_PATH -> urlPath(p.getUrlPath(), path + ".url_path");
      case DESTINATION_IP -> {
        CidrMatcher cidr = CidrMatcher.compile(p.getDestinationIp(), path + ".destination_ip");
        yield in -> cidr.matches(in.localAddress().getAddress());
      }
      case DESTINATION_PORT -> {
        if (p.getDestinationPort() > 65535) {
          throw new ConfigException(path + ".destination_port", "value must be less than or equal to 65535");
        }
        int port = p.getDestinationPort();
        yield in -> in.localAddress().getPort() == port;
      }
      case DESTINATION_PORT_RANGE -> {
        int start = p.getDestinationPortRange().getStart();
        int end = p.getDestinationPortRange().getEnd();
        if (start > end) {
          throw new ConfigException(path + ".destination_port_range", "start " + start + " is greater than end " + end);
        }
        yield in -> in.localAddress().getPort() >= start && in.localAddress().getPort() < end;
      }
      case METADATA -> metadata(p.getMetadata(), path + ".metadata");
      case SOURCED_METADATA -> sourcedMetadata(p.getSourcedMetadata(), path + ".sourced_metadata");
      case NOT_RULE -> {
        RbacMatcher inner = permission(p.getNotRule(), path + ".not_rule");
        yield in -> !inner.matches(in);
      }
      case REQUESTED_SERVER_NAME -> {
        StringMatcher sni = StringMatcher.compile(p.getRequestedServerName(), path + ".requested_server_name");
        yield in -> {
          String name = in.requestedServerName();
          return sni.matches(name == null ? "" : name);
        };
      }
      case MATCHER -> throw new ConfigException(path + ".matcher", "custom RBAC matcher extensions are not supported");
      case URI_TEMPLATE -> throw new ConfigException(path + ".uri_template", "URI template matching is not supported");
      case RULE_NOT_SET -> throw new ConfigException(path, "a rule is required");
    };
  }

  public static RbacMatcher principal(Principal p, String path) {
    return switch (p.getIdentifierCase()) {
      case AND_IDS -> and(p.getAndIds().getIdsList(), path + ".and_ids.ids", RbacMatchers::principal);
      case OR_IDS -> or(p.getOrIds().getIdsList(), path + ".or_ids.ids", RbacMatchers::principal);
      case ANY -> any(p.getAny(), path);
      case AUTHENTICATED -> authenticated(p.getAuthenticated(), path + ".authenticated");
      case SOURCE_IP -> {
        CidrMatcher cidr = CidrMatcher.compile(p.getSourceIp(), path + ".source_ip");
        yield in -> cidr.matches(in.directRemoteAddress().getAddress());
      }
      case DIRECT_REMOTE_IP -> {
        CidrMatcher cidr = CidrMatcher.compile(p.getDirectRemoteIp(), path + ".direct_remote_ip");
        yield in -> cidr.matches(in.directRemoteAddress().getAddress());
      }
      case REMOTE_IP -> {
        CidrMatcher cidr = CidrMatcher.compile(p.getRemoteIp(), path + ".remote_ip");
        yield in -> cidr.matches(in.remoteAddress().getAddress());
      }
      case HEADER -> header(p.getHeader(), path + ".header");
      case URL_PATH -> urlPath(p.getUrlPath(), path + ".url_path");
      case METADATA -> metadata(p.getMetadata(), path + ".metadata");
      case SOURCED_METADATA -> sourcedMetadata(p.getSourcedMetadata(), path + ".sourced_metadata");
      case FILTER_STATE -> filterState(p.getFilterState(), path + ".filter_state");
      case NOT_ID -> {
        RbacMatcher inner = principal(p.getNotId(), path + ".not_id");
        yield in -> !inner.matches(in);
      }
      case CUSTOM -> throw new ConfigException(path + ".custom", "custom RBAC principal extensions are not supported");
      case IDENTIFIER_NOT_SET -> throw new ConfigException(path, "an identifier is required");
    };
  }

  private static <T> RbacMatcher and(List<T> items, String path, Compiler<T> compiler) {
    RbacMatcher[] all = compileAll(items, path, compiler);
    return in -> {
      for (RbacMatcher m : all) {
        if (!m.matches(in)) {
          return false;
        }
      }
      return true;
    };
  }

  private static <T> RbacMatcher or(List<T> items, String path, Compiler<T> compiler) {
    RbacMatcher[] any = compileAll(items, path, compiler);
    return in -> {
      for (RbacMatcher m : any) {
        if (m.matches(in)) {
          return true;
        }
      }
      return false;
    };
  }

  private static <T> RbacMatcher[] compileAll(List<T> items, String path, Compiler<T> compiler) {
    if (items.isEmpty()) {
      throw new ConfigException(path, "value must contain at least 1 item(s)");
    }
    List<RbacMatcher> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      out.add(compiler.compile(items.get(i), path + "[" + i + "]"));
    }
    return out.toArray(RbacMatcher[]::new);
  }

  @FunctionalInterface
  private interface Compiler<T> {
    RbacMatcher compile(T item, String path);
  }

  private static RbacMatcher any(boolean any, String path) {
    if (!any) {
      throw new ConfigException(path + ".any", "value must equal true");
    }
    return RbacMatcher.ANY;
  }

  /** Only HTTP requests have headers: on the network filter a header rule never matches. */
  private static RbacMatcher header(io.envoyproxy.envoy.config.route.v3.HeaderMatcher h, String path) {
    HeaderMatcher m = HeaderMatcher.compile(h, path);
    return in -> {
      Http2Headers headers = in.headers();
      return headers != null && m.matches(headers);
    };
  }

  /** {@code url_path}: the {@code :path} without its query and fragment. */
  private static RbacMatcher urlPath(PathMatcher p, String path) {
    if (!p.hasPath()) {
      throw new ConfigException(path + ".path", "a path matcher is required");
    }
    StringMatcher m = StringMatcher.compile(p.getPath(), path + ".path");
    return in -> {
      Http2Headers headers = in.headers();
      CharSequence full = headers == null ? null : headers.get(PATH);
      if (full == null) {
        return false;
      }
      int end = full.length();
      for (int i = 0; i < end; i++) {
        char c = full.charAt(i);
        if (c == '?' || c == '#') {
          end = i;
        }
      }
      return m.matches(full.subSequence(0, end));
    };
  }

  /**
   * Envoy's {@code Principal.authenticated}: only on TLS connections; without a {@code principal_name}
   * any TLS peer matches; else a peer URI SAN, then a DNS SAN, then the subject must match.
   */
  private static RbacMatcher authenticated(Principal.Authenticated a, String path) {
    StringMatcher name = a.hasPrincipalName() ? StringMatcher.compile(a.getPrincipalName(), path + ".principal_name") : null;
    return in -> {
      TlsPeer tls = in.tls();
      if (tls == null) {
        return false;
      }
      if (name == null) {
        return true;
      }
      for (String uri : tls.uriSans()) {
        if (name.matches(uri)) {
          return true;
        }
      }
      for (String dns : tls.dnsSans()) {
        if (name.matches(dns)) {
          return true;
        }
      }
      return name.matches(tls.subject());
    };
  }

  private static RbacMatcher filterState(FilterStateMatcher f, String path) {
    if (f.getKey().isEmpty()) {
      throw new ConfigException(path + ".key", "value length must be at least 1 characters");
    }
    if (f.getMatcherCase() != FilterStateMatcher.MatcherCase.STRING_MATCH) {
      throw new ConfigException(path, "only string_match filter-state matchers are supported");
    }
    String key = f.getKey();
    StringMatcher m = StringMatcher.compile(f.getStringMatch(), path + ".string_match");
    return in -> {
      String v = in.filterState(key);
      return v != null && m.matches(v);
    };
  }

  private static RbacMatcher sourcedMetadata(io.envoyproxy.envoy.config.rbac.v3.SourcedMetadata s, String path) {
    if (s.getMetadataSource() != MetadataSource.DYNAMIC) {
      throw new ConfigException(path + ".metadata_source", "only DYNAMIC metadata is supported");
    }
    return metadata(s.getMetadataMatcher(), path + ".metadata_matcher");
  }

  /** Envoy's MetadataMatcher over dynamic metadata: the value at filter/path, matched, XOR {@code invert}. */
  private static RbacMatcher metadata(MetadataMatcher m, String path) {
    MetadataMatcherPredicate p = MetadataMatcherPredicate.compile(m, path);
    return in -> p.matches(in.dynamicMetadata(p.filter(), p.path()));
  }
}
