package dev.sluice.http;

import dev.sluice.router.RouteTable;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One version of a connection manager's routing scopes: each scope key with the provider of its
 * route table. Immutable; a stream keeps the version it started with and picks its table with one
 * key computation and one hash lookup.
 */
public final class ScopedRouteTables {
  private final ScopeKeyBuilder keys;
  private final Map<ScopeKey, RouteConfigProvider> scopes;

  ScopedRouteTables(ScopeKeyBuilder keys, Map<ScopeKey, RouteConfigProvider> scopes) {
    this.keys = keys;
    this.scopes = Map.copyOf(scopes);
  }

  /**
   * The route table of the request's scope; null when the request has no key, no scope has its key,
   * or the scope's route configuration has not arrived (Envoy then answers 404, flag NR).
   */
  public @Nullable RouteTable select(Http2Headers requestHeaders) {
    ScopeKey key = keys.key(requestHeaders);
    RouteConfigProvider scope = key == null ? null : scopes.get(key);
    return scope == null ? null : scope.current();
  }
}
