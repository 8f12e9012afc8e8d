package dev.sluice.accesslog;

import dev.sluice.api.stats.StatsScope;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The process's {@link AccessLogFileManager}, which the file and stream logger factories share.
 * The server sets the flush interval from {@code --file-flush-interval-msec} at start-up, calls
 * {@link #reopenAll()} for admin {@code /reopen_logs} and {@link #shutdown()} when it stops. The
 * manager is created by the first logger, with the root stats scope that logger's factory got.
 */
public final class AccessLogWriters {
  private static @Nullable AccessLogFileManager manager;
  private static Duration flushInterval = AccessLogFileManager.DEFAULT_FLUSH_INTERVAL;

  private AccessLogWriters() {}

  /** {@code --file-flush-interval-msec}; applies to files already open too. */
  public static synchronized void setFlushInterval(Duration interval) {
    AccessLogFileManager m = manager;
    if (m != null) {
      m.setFlushInterval(interval);
    }
    flushInterval = interval;
  }

  /** The shared manager, created on first use with {@code rootStats}. */
  public static synchronized AccessLogFileManager manager(StatsScope rootStats) {
    AccessLogFileManager m = manager;
    if (m == null) {
      m = new AccessLogFileManager(rootStats, flushInterval);
      manager = m;
    }
    return m;
  }

  /** Reopens every access log file (log rotation). */
  public static synchronized void reopenAll() {
    AccessLogFileManager m = manager;
    if (m != null) {
      m.reopenAll();
    }
  }

  /** Flushes and closes every file; a later logger starts a new manager. */
  public static synchronized void shutdown() {
    AccessLogFileManager m = manager;
    manager = null;
    if (m != null) {
      m.close();
    }
  }
}
