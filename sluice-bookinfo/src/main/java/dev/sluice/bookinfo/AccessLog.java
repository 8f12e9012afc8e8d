package dev.sluice.bookinfo;

import java.io.PrintStream;
import java.time.Duration;

/** One line per request on a stream: {@code GET /reviews/0 200 3ms}. */
public final class AccessLog {
  private final PrintStream out;

  public AccessLog(PrintStream out) {
    this.out = out;
  }

  void record(String method, String target, int status, Duration duration) {
    out.println(method + " " + target + " " + status + " " + duration.toMillis() + "ms");
  }
}
