package dev.sluice.accesslog;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/** The system host name for {@code %HOSTNAME%} (Envoy's gethostname()), read once. */
final class Hostname {
  private static volatile @Nullable String cached;

  private Hostname() {}

  static String get() {
    String h = cached;
    if (h == null) {
      h = read();
      cached = h;
    }
    return h;
  }

  private static String read() {
    // The kernel's own answer, without a name-service lookup that might block on DNS.
    try {
      String s = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
      if (!s.isEmpty()) {
        return s;
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "-";
    }
  }
}
