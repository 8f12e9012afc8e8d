package dev.sluice.extensions.filters.listener.http_inspector;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;

/** Envoy's {@code http_inspector.*} counters. */
final class HttpInspectorStats {
  final Counter http10Found;
  final Counter http11Found;
  final Counter http2Found;
  final Counter httpNotFound;

  HttpInspectorStats(StatsScope root) {
    StatsScope s = root.scope("http_inspector.");
    http10Found = s.counter("http10_found");
    http11Found = s.counter("http11_found");
    http2Found = s.counter("http2_found");
    httpNotFound = s.counter("http_not_found");
  }
}
