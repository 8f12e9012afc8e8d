package dev.sluice.it.routing;

import dev.sluice.server.Server;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the admin endpoint of a test server. */
final class Admin {
  private Admin() {}

  static String get(Server server, String path) throws IOException {
    try (RawHttp admin = new RawHttp(server.adminPort())) {
      RawHttp.Response r = admin.get("127.0.0.1", path);
      if (r.status() != 200) {
        throw new IOException("admin " + path + " answered " + r.status() + ": " + r.body());
      }
      return r.body();
    }
  }

  /** A counter or gauge from {@code /stats} (text format, "name: value" lines); -1 when absent. */
  static long stat(Server server, String name) throws IOException {
    Matcher m = Pattern.compile("^" + Pattern.quote(name) + ": (\\d+)$", Pattern.MULTILINE)
        .matcher(get(server, "/stats"));
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }
}
