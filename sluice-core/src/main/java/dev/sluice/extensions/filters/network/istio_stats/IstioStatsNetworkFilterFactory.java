package dev.sluice.extensions.filters.network.istio_stats;

import com.google.protobuf.Struct;
import com.google.protobuf.Value.KindCase;
import dev.sluice.extensions.filters.passthrough.OpaqueNetworkFilterFactory;
import dev.sluice.extensions.filters.passthrough.StructFields;

/**
 * Istio's {@code istio.stats} on a TCP chain ({@code stats.PluginConfig}): Istio's standard TCP
 * metrics. Accepted and passed through; the metrics themselves belong to the Istio telemetry work.
 */
public final class IstioStatsNetworkFilterFactory extends OpaqueNetworkFilterFactory {
  public IstioStatsNetworkFilterFactory() {
    super("istio.stats", "type.googleapis.com/stats.PluginConfig", "Istio TCP metrics", "Istio telemetry");
  }

  @Override
  protected void validate(Struct config) {
    StructFields.requireKind(config, "metrics", KindCase.LIST_VALUE, "");
    StructFields.requireKind(config, "definitions", KindCase.LIST_VALUE, "");
  }
}
