package dev.sluice.admin;

import dev.sluice.stats.JsonStatsFormatter;
import dev.sluice.stats.PrometheusStatsFormatter;
import dev.sluice.stats.StatsParams;
import dev.sluice.stats.StatsStore;
import dev.sluice.stats.TextStatsFormatter;

/** {@code /stats} and {@code /stats/prometheus} over a {@link StatsStore}. */
public final class StatsHandlers {
  private final StatsStore store;
  private final boolean flushOnAdmin;

  /**
   * @param flushOnAdmin {@code stats_config.stats_flush_on_admin}: merge histograms before each
   *     answer instead of showing the last periodic merge
   */
  public StatsHandlers(StatsStore store, boolean flushOnAdmin) {
    this.store = store;
    this.flushOnAdmin = flushOnAdmin;
  }

  public void register(AdminServer admin) {
    admin.register("/stats", "print server stats", false, AdminHandler.sync(this::stats));
    admin.register("/stats/prometheus", "print server stats in prometheus format", false,
        AdminHandler.sync(this::prometheus));
  }

  AdminResponse stats(AdminRequest request) {
    StatsParams params;
    try {
      params = StatsParams.parse(request.query().firstValues());
    } catch (StatsParams.InvalidParamException e) {
      return AdminResponse.text(400, e.getMessage());
    }
    if (flushOnAdmin) {
      store.mergeHistograms();
    }
    return switch (params.format()) {
      case TEXT -> AdminResponse.ok(TextStatsFormatter.format(store, params));
      case JSON -> AdminResponse.json(JsonStatsFormatter.format(store, params));
      case PROMETHEUS -> AdminResponse.ok(PrometheusStatsFormatter.format(store, params));
    };
  }

  AdminResponse prometheus(AdminRequest request) {
    StatsParams params;
    try {
      params = StatsParams.parse(request.query().firstValues());
    } catch (StatsParams.InvalidParamException e) {
      return AdminResponse.text(400, e.getMessage());
    }
    if (params.histogramBuckets() == StatsParams.BucketMode.DISJOINT) {
      return AdminResponse.text(400, "unsupported prometheus histogram bucket mode");
    }
    if (flushOnAdmin) {
      store.mergeHistograms();
    }
    return AdminResponse.ok(PrometheusStatsFormatter.format(store, params));
  }
}
