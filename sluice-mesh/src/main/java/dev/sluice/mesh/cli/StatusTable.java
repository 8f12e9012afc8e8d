package dev.sluice.mesh.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code sluice status}: one row per proxy as {@code istioctl proxy-status} (NAME, CDS, LDS, EDS,
 * RDS: {@code SYNCED (v3)}, {@code NOT SENT}, {@code STALE}), then one line per NACK with the
 * proxy's reason.
 */
final class StatusTable {
  private static final String[] TYPES = {"cds", "lds", "eds", "rds"};

  private StatusTable() {}

  static void print(PrintWriter out, JsonObject status) {
    long version = status.get("version").getAsLong();
    var proxies = status.getAsJsonArray("proxies");
    if (proxies.isEmpty()) {
      out.println("No proxies connected (control plane version " + version + ").");
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"NAME", "MODE", "XDS", "CDS", "LDS", "EDS", "RDS"});
    List<String> nacks = new ArrayList<>();
    for (JsonElement e : proxies) {
      JsonObject p = e.getAsJsonObject();
      String name = p.get("proxy").getAsString();
      String[] row = new String[7];
      row[0] = name;
      row[1] = p.get("mode").getAsString();
      row[2] = p.get("protocol").getAsString();
      JsonObject types = p.getAsJsonObject("types");
      for (int i = 0; i < TYPES.length; i++) {
        JsonObject t = types.getAsJsonObject(TYPES[i]);
        String state = t.get("state").getAsString();
        row[3 + i] = t.has("acked") ? state + " (v" + t.get("acked").getAsString() + ")" : state;
        if (t.has("nack")) {
          nacks.add(name + " " + TYPES[i].toUpperCase(java.util.Locale.ROOT) + " NACKed version "
              + t.get("nacked").getAsString() + ": " + t.get("nack").getAsString());
        }
      }
      rows.add(row);
    }
    Table.print(out, rows);
    out.println("control plane version " + version);
    nacks.forEach(out::println);
  }
}
