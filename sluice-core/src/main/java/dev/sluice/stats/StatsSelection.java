package dev.sluice.stats;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The stats one {@code /stats} request shows, in Envoy's order: counters and gauges together
 * sorted by name, then histograms sorted by name.
 */
record StatsSelection(Map<String, Long> countersAndGauges, List<StatsStore.HistogramImpl> histograms) {

  static StatsSelection of(StatsStore store, StatsParams params) {
    Map<String, Long> values = new TreeMap<>();
    if (params.showsCounters()) {
      for (StatsStore.CounterImpl c : store.counters()) {
        if (params.shows(c)) {
          values.put(c.name(), c.value());
        }
      }
    }
    if (params.showsGauges()) {
      for (StatsStore.GaugeImpl g : store.gauges()) {
        if (params.shows(g)) {
          values.put(g.name(), g.value());
        }
      }
    }
    List<StatsStore.HistogramImpl> histograms = params.showsHistograms()
        ? store.histograms().stream()
            .filter(params::shows)
            .sorted(Comparator.comparing(StatsStore.HistogramImpl::name))
            .toList()
        : List.of();
    return new StatsSelection(values, histograms);
  }
}
