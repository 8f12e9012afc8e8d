package dev.sluice.accesslog;

import dev.sluice.api.config.ConfigException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * One access log file and the background thread that writes it (Envoy's AccessLogFileImpl). Workers
 * call {@link #write}: it queues the finished line and returns, never blocking and never doing I/O.
 * The writer thread writes when {@value #FLUSH_THRESHOLD_BYTES} bytes are waiting, as Envoy's
 * minimum flush size, and at least every flush interval ({@code --file-flush-interval-msec}).
 * The queue is bounded in bytes: beyond the bound lines are dropped and counted. Lines from one
 * worker keep their order, and each line is written whole.
 */
public final class AccessLogFile {
  /** Envoy's min_flush_size: 64 KiB waiting wakes the writer before the timer does. */
  public static final int FLUSH_THRESHOLD_BYTES = 64 * 1024;

  private final String path;
  private final FileSinkStats stats;
  private final LongSupplier flushIntervalNanos;
  private final long maxBufferedChars;
  private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
  /** Characters queued and not yet written (a byte estimate that needs no encoding). */
  private final AtomicLong buffered = new AtomicLong();
  private final Thread writer;
  private volatile boolean reopenRequested;
  private volatile boolean closing;
  /** Owned by the writer thread once started. */
  private @Nullable WritableByteChannel channel;
  private final ByteBuffer out = ByteBuffer.allocate(2 * FLUSH_THRESHOLD_BYTES);

  AccessLogFile(String path, FileSinkStats stats, LongSupplier flushIntervalNanos, long maxBufferedChars) {
    this.path = path;
    this.stats = stats;
    this.flushIntervalNanos = flushIntervalNanos;
    this.maxBufferedChars = maxBufferedChars;
    try {
      this.channel = open(path);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("path", "unable to open file '" + path + "': " + e.getMessage(), e);
    }
    this.writer = Thread.ofPlatform().daemon().name("access-log:" + path).unstarted(this::run);
    writer.start();
  }

  public String path() {
    return path;
  }

  /** Queues one formatted line (worker thread). Drops it when the buffer bound is reached. */
  public void write(String line) {
    int len = line.length();
    if (buffered.get() + len > maxBufferedChars) {
      stats.writeDropped().inc();
      return;
    }
    queue.offer(line);
    long after = buffered.addAndGet(len);
    stats.writeBuffered().inc();
    stats.writeTotalBuffered().add(len);
    if (after >= FLUSH_THRESHOLD_BYTES && after - len < FLUSH_THRESHOLD_BYTES) {
      LockSupport.unpark(writer);
    }
  }

  /** Asks the writer to reopen the file (log rotation, admin {@code /reopen_logs}). */
  void reopen() {
    reopenRequested = true;
    LockSupport.unpark(writer);
  }

  /** Wakes the writer so it takes a changed flush interval into account. */
  void wake() {
    LockSupport.unpark(writer);
  }

  /** Writes what is queued, stops the writer thread and closes the file. */
  void close() throws InterruptedException {
    closing = true;
    LockSupport.unpark(writer);
    writer.join();
  }

  private void run() {
    long lastTick = System.nanoTime();
    while (true) {
      boolean stop = closing;
      if (reopenRequested) {
        reopenRequested = false;
        doReopen();
      }
      long now = System.nanoTime();
      if (now - lastTick >= flushIntervalNanos.getAsLong()) {
        // As Envoy's flush timer: counted on every tick, whether or not there was data.
        stats.flushedByTimer().inc();
        lastTick = now;
        drain();
      } else if (stop || buffered.get() >= FLUSH_THRESHOLD_BYTES) {
        drain();
      }
      if (stop) {
        closeChannel();
        return;
      }
      long wait = lastTick + flushIntervalNanos.getAsLong() - System.nanoTime();
      if (wait > 0 && buffered.get() < FLUSH_THRESHOLD_BYTES && !reopenRequested && !closing) {
        LockSupport.parkNanos(this, wait);
      }
    }
  }

  /** Writes every queued line in large writes. */
  private void drain() {
    long chars = 0;
    String line;
    while ((line = queue.poll()) != null) {
      chars += line.length();
      byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
      if (bytes.length > out.remaining()) {
        writeOut();
      }
      if (bytes.length > out.capacity()) {
        writeFully(ByteBuffer.wrap(bytes));
      } else {
        out.put(bytes);
      }
    }
    writeOut();
    if (chars > 0) {
      buffered.addAndGet(-chars);
      stats.writeTotalBuffered().sub(chars);
    }
  }

  private void writeOut() {
    if (out.position() == 0) {
      return;
    }
    out.flip();
    writeFully(out);
    out.clear();
  }

  private void writeFully(ByteBuffer data) {
    WritableByteChannel ch = channel;
    if (ch == null) {
      stats.writeFailed().inc();
      return;
    }
    try {
      while (data.hasRemaining()) {
        ch.write(data);
      }
      stats.writeCompleted().inc();
    } catch (IOException e) {
      // Probably a full disk; the data is lost, as in Envoy.
      stats.writeFailed().inc();
    }
  }

  /**
   * Closes and reopens the path, so that a rotated file is replaced by a new one. On failure the
   * file stays closed until the next reopen and writes count as failed, as in Envoy.
   */
  private void doReopen() {
    if (isStdStream(path)) {
      return;
    }
    closeChannel();
    try {
      channel = open(path);
    } catch (IOException | RuntimeException e) {
      stats.reopenFailed().inc();
    }
  }

  private void closeChannel() {
    WritableByteChannel ch = channel;
    channel = null;
    if (ch != null && !isStdStream(path)) {
      try {
        ch.close();
      } catch (IOException e) {
        stats.writeFailed().inc();
      }
    }
  }

  private static boolean isStdStream(String path) {
    return path.equals("/dev/stdout") || path.equals("/dev/stderr");
  }

  /** Opens for append, creating the file; the standard streams use the process's descriptors. */
  private static WritableByteChannel open(String path) throws IOException {
    return switch (path) {
      case "/dev/stdout" -> new FileOutputStream(FileDescriptor.out).getChannel();
      case "/dev/stderr" -> new FileOutputStream(FileDescriptor.err).getChannel();
      default ->
          FileChannel.open(
              Path.of(path), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    };
  }
}
