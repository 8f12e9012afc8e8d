package dev.sluice.stats;

import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.metrics.v3.StatsConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** The {@code stats_config} of Istio's rendered sidecar bootstrap (shared fixture). */
final class IstioBootstrap {
  static final Path GOLDEN = Path.of("/work/shared/istio/bootstrap/default_golden.json");

  private IstioBootstrap() {}

  static StatsConfig statsConfig() throws Exception {
    var root = JsonParser.parseString(Files.readString(GOLDEN)).getAsJsonObject();
    StatsConfig.Builder b = StatsConfig.newBuilder();
    JsonFormat.parser().merge(root.get("stats_config").toString(), b);
    return b.build();
  }
}
