package dev.sluice.accesslog;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;

/**
 * Envoy's access log file stats ({@code filesystem.*}, shared by every file), plus
 * {@code write_dropped}: Sluice bounds each file's buffer where Envoy's grows without limit, and
 * counts the lines it drops when a sink cannot keep up.
 */
record FileSinkStats(
    Counter writeBuffered,
    Counter writeCompleted,
    Counter writeFailed,
    Counter flushedByTimer,
    Counter reopenFailed,
    Counter writeDropped,
    Gauge writeTotalBuffered) {

  static FileSinkStats create(StatsScope root) {
    StatsScope s = root.scope("filesystem.");
    return new FileSinkStats(
        s.counter("write_buffered"),
        s.counter("write_completed"),
        s.counter("write_failed"),
        s.counter("flushed_by_timer"),
        s.counter("reopen_failed"),
        s.counter("write_dropped"),
        s.gauge("write_total_buffered"));
  }
}
