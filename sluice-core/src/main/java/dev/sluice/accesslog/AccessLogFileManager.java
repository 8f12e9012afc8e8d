package dev.sluice.accesslog;

import dev.sluice.api.stats.StatsScope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The access log files of one server (Envoy's AccessLogManager): one {@link AccessLogFile}, and so
 * one writer thread, per path however many loggers use it; one flush interval; reopening all files
 * for log rotation.
 */
public final class AccessLogFileManager implements AutoCloseable {
  /** Envoy's default {@code --file-flush-interval-msec}. */
  public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(10);
  /** Per file; beyond it lines are dropped and counted ({@code filesystem.write_dropped}). */
  public static final long DEFAULT_MAX_BUFFERED_CHARS = 16L * 1024 * 1024;

  private final FileSinkStats stats;
  private final long maxBufferedChars;
  private final ConcurrentHashMap<String, AccessLogFile> files = new ConcurrentHashMap<>();
  private volatile long flushIntervalNanos;

  public AccessLogFileManager(StatsScope rootStats, Duration flushInterval) {
    this(rootStats, flushInterval, DEFAULT_MAX_BUFFERED_CHARS);
  }

  public AccessLogFileManager(StatsScope rootStats, Duration flushInterval, long maxBufferedChars) {
    this.stats = FileSinkStats.create(rootStats);
    this.flushIntervalNanos = positive(flushInterval);
    this.maxBufferedChars = maxBufferedChars;
  }

  /**
   * The file for {@code path}, opened (control thread) on first use and shared afterwards.
   *
   * @throws dev.sluice.api.config.ConfigException (field {@code path}) when it cannot be opened
   */
  public AccessLogFile file(String path) {
    return files.computeIfAbsent(path, p -> new AccessLogFile(p, stats, () -> flushIntervalNanos, maxBufferedChars));
  }

  /** Changes the flush interval of every file, present and future. */
  public void setFlushInterval(Duration interval) {
    flushIntervalNanos = positive(interval);
    files.values().forEach(AccessLogFile::wake);
  }

  /** Reopens every file on its writer thread (admin {@code /reopen_logs}, SIGUSR1). */
  public void reopenAll() {
    files.values().forEach(AccessLogFile::reopen);
  }

  /** Writes out what is buffered and stops every writer thread. */
  @Override
  public void close() {
    List<AccessLogFile> all = new ArrayList<>(files.values());
    files.clear();
    boolean interrupted = false;
    for (AccessLogFile f : all) {
      try {
        f.close();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static long positive(Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("flush interval must be positive: " + d);
    }
    return d.toNanos();
  }
}
