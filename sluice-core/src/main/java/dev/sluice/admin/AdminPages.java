package dev.sluice.admin;

import java.util.List;

/** The admin home page and {@code /help} text, listing every endpoint as Envoy does. */
final class AdminPages {
  private AdminPages() {}

  /** Envoy's {@code /help}: {@code admin commands are:} then one line per path. */
  static String help(List<AdminServer.Endpoint> endpoints) {
    StringBuilder out = new StringBuilder("admin commands are:\n");
    for (AdminServer.Endpoint e : endpoints) {
      out.append("  ").append(e.path()).append(e.mutatesState() ? " (POST)" : "")
          .append(": ").append(e.helpText()).append('\n');
    }
    return out.toString();
  }

  /** An HTML table of the endpoints; mutating ones are buttons that POST. */
  static String index(List<AdminServer.Endpoint> endpoints) {
    StringBuilder out = new StringBuilder(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<title>Envoy Admin</title>\n"
            + "</head>\n<body>\n<table class=\"home-table\">\n<thead>\n"
            + "<tr><th class=\"home-data\">Command</th>"
            + "<th class=\"home-data\">Description</th></tr>\n</thead>\n<tbody>\n");
    for (AdminServer.Endpoint e : endpoints) {
      if (e.path().equals("/")) {
        continue;
      }
      String path = escape(e.path());
      String link = path.substring(1);
      out.append("<tr class=\"home-row\"><td class=\"home-data\">");
      if (e.mutatesState()) {
        out.append("<form action=\"").append(link).append("\" method=\"post\">")
            .append("<button class=\"button-as-link\">").append(link).append("</button></form>");
      } else {
        out.append("<a href=\"").append(link).append("\">").append(link).append("</a>");
      }
      out.append("</td><td class=\"home-data\">").append(escape(e.helpText()))
          .append("</td></tr>\n");
    }
    return out.append("</tbody>\n</table>\n</body>\n</html>\n").toString();
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\"", "&quot;").replace("'", "&#39;");
  }
}
