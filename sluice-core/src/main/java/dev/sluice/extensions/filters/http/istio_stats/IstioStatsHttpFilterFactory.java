package dev.sluice.extensions.filters.http.istio_stats;

import com.google.protobuf.Struct;
import com.google.protobuf.Value.KindCase;
import dev.sluice.extensions.filters.passthrough.OpaqueHttpFilterFactory;
import dev.sluice.extensions.filters.passthrough.StructFields;

/**
 * Istio's {@code istio.stats} HTTP filter ({@code stats.PluginConfig}): Istio's standard request
 * metrics. Accepted and passed through; the metrics themselves belong to the Istio telemetry work.
 */
public final class IstioStatsHttpFilterFactory extends OpaqueHttpFilterFactory {
  public IstioStatsHttpFilterFactory() {
    super("istio.stats", "type.googleapis.com/stats.PluginConfig", "Istio request metrics", "Istio telemetry");
  }

  @Override
  protected void validate(Struct config) {
    StructFields.requireKind(config, "metrics", KindCase.LIST_VALUE, "");
    StructFields.requireKind(config, "definitions", KindCase.LIST_VALUE, "");
    StructFields.requireKind(config, "disable_host_header_fallback", KindCase.BOOL_VALUE, "");
  }
}
